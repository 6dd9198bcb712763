import { isCrop, type VariantSpec } from '../../config/variants.js';
import { FORMATS, type OutputFormat } from '../../formats/formats.js';
import type { ImageInfo } from '../probe.js';
import { carriesMark } from '../watermark.js';
import type { SharpOptions } from 'sharp';
import { decode, decodeOpen, forgivingTags, type Decoded, type SourceImage } from './decode.js';
import { encode, flattenFor, fromFrames } from './encode.js';
import { keepIntermediate, type Intermediate } from './intermediate.js';
import { markFrames, type Frames, type PlacedMark } from './mark.js';
import { isAnimated, outputFormatsFor, type FormatSettings } from './output-formats.js';
import { resizedSize, resizeTo, scaleNeeded } from './resize.js';

export interface RenderSettings extends FormatSettings {
  quality: number;
  maxInputPixels: number;
  maxAnimationFrames: number;
  /** Absent when this image is not watermarked. */
  watermark?: PlacedMark;
  /** Seconds libvips may spend on each pipeline. */
  timeoutSeconds?: number;
  /** Keep the decoded picture too, for on-demand renders (intermediate.ts). */
  keepIntermediate?: boolean;
}

export interface RenderedVariant {
  /** The variant it renders (VARIANTS' name). */
  name: string;
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  /** Frames in the output; 1 unless an animation was kept. */
  pages: number;
}

/**
 * The render pipeline, one for still pictures and animations alike: decode (with orientation and
 * colour), then for each variant resize and crop, mark, encode in each of its formats. Variants
 * run side by side, so on an idle server the encodes of one image spread over the cores.
 */
export async function renderVariants(source: SourceImage, info: ImageInfo, specs: VariantSpec[], settings: RenderSettings): Promise<RenderedVariant[]> {
  return (await renderAll(source, info, specs, settings)).variants;
}

/** As renderVariants, with the intermediate when `keepIntermediate` asks for it and the picture has one. */
export async function renderAll(source: SourceImage, info: ImageInfo, specs: VariantSpec[], settings: RenderSettings): Promise<{ variants: RenderedVariant[]; intermediate?: Intermediate }> {
  const plans = specs.map((spec) => ({ spec, formats: outputFormatsFor(spec, info, settings) }));
  // Only GIF and WebP animate, and sharp decodes both itself: an animation always comes as bytes.
  const animates = isAnimated(info) && Buffer.isBuffer(source) && plans.some(({ formats }) => formats.some((f) => FORMATS[f].animation));
  // As many frames as both the frame cap and the pixel budget allow.
  const pages = animates ? Math.max(1, Math.min(info.pages, settings.maxAnimationFrames, Math.floor(settings.maxInputPixels / (info.width * info.height)))) : 1;
  const plan = {
    pages,
    scale: pages > 1 ? 1 : Math.max(...specs.map((spec) => scaleNeeded(info, spec))),
    maxInputPixels: settings.maxInputPixels,
    ...(settings.timeoutSeconds ? { timeout: { seconds: Math.max(1, Math.ceil(settings.timeoutSeconds)) } } : {}),
  };
  // One variant in one format of an opaque still picture, unmarked (an on-demand render, mostly):
  // nothing to share, so one pipeline from the source to the encoder, without the raw pixels between.
  // libvips then decodes while it encodes: a 1920 px WebP from a 12 MP JPEG in 351 ms, not 427.
  const only = plans.length === 1 ? plans[0]! : undefined;
  if (only && only.formats.length === 1 && pages === 1 && !info.hasAlpha && !settings.keepIntermediate && !isMarked(info, only.spec, settings)) {
    const straight = (level: SharpOptions['failOn']) => renderVariant(decodeOpen(source, info, plan, level), info, only.spec, only.formats, settings);
    return { variants: await forgivingTags(FORMATS[info.format].failOn, straight) };
  }
  const decoded = await decode(source, info, plan);
  // Encoded beside the variants, from the same pixels.
  const kept = settings.keepIntermediate ? keepIntermediate(decoded, info) : undefined;
  kept?.catch(() => undefined);
  // Variants that would come out the same (a small photo is its own size as medium and as large)
  // are rendered once, and each gets its name on the same bytes.
  const renders = new Map<string, Promise<RenderedVariant[]>>();
  const rendered = plans.map(({ spec, formats }) => {
    const key = sameOutputKey(info, spec, formats, settings);
    if (!renders.has(key)) renders.set(key, renderVariant(decoded, info, spec, formats, settings));
    return renders.get(key)!.then((outputs) => outputs.map((output) => ({ ...output, name: spec.name })));
  });
  const variants = (await Promise.all(rendered)).flat();
  const intermediate = await kept;
  return { variants, ...(intermediate ? { intermediate } : {}) };
}

/** Whether a variant gets the mark: it lets it, and it is wide enough for it. */
const isMarked = (info: ImageInfo, spec: VariantSpec, settings: RenderSettings) => spec.watermark !== false && carriesMark(settings.watermark, resizedSize(info, spec).width);

/** Everything but its name that decides a variant's outputs: two specs with the same key render to the same bytes. */
function sameOutputKey(info: ImageInfo, spec: VariantSpec, formats: OutputFormat[], settings: RenderSettings): string {
  const { width, height } = resizedSize(info, spec);
  return JSON.stringify({
    width,
    height,
    // A crop's fit decides what is kept; without a crop every fit scales the whole picture alike.
    fit: isCrop(spec.fit) ? spec.fit : 'inside',
    formats,
    quality: spec.quality ?? settings.quality,
    marked: isMarked(info, spec, settings),
    background: spec.background ?? '#ffffff',
    blur: spec.blur ?? 0,
    sharpen: spec.sharpen ?? false,
  });
}

async function renderVariant(decoded: Decoded, info: ImageInfo, spec: VariantSpec, formats: OutputFormat[], settings: RenderSettings): Promise<RenderedVariant[]> {
  const pages = formats.some((f) => FORMATS[f].animation) ? decoded.pages : 1;
  const { image } = resizeTo(decoded, info, spec, pages);
  const encoded = async (format: OutputFormat, input: typeof image): Promise<RenderedVariant> => {
    const outPages = FORMATS[format].animation ? pages : 1;
    const { data, info: out } = await encode(input, format, spec.quality ?? settings.quality, decoded.timing).toBuffer({ resolveWithObject: true });
    return { name: spec.name, data, format, width: out.width, height: out.pageHeight ?? out.height / outPages, pages: outPages };
  };

  const marked = isMarked(info, spec, settings);
  const background = spec.background ?? '#ffffff';
  // Nothing to do between resize and encode: straight through, no copy of the pixels.
  if (!marked && formats.length === 1) return [await encoded(formats[0]!, flattenFor(image, formats[0]!, background))];

  // Resized once to raw frames, marked, then encoded in each format.
  const raw = await image.raw().toBuffer({ resolveWithObject: true });
  const frames: Frames = { data: raw.data, width: raw.info.width, height: raw.info.height / pages, channels: raw.info.channels, pages };
  if (marked) await markFrames(frames, settings.watermark!);
  const out: RenderedVariant[] = [];
  for (const format of formats) out.push(await encoded(format, fromFrames(frames, format, background)));
  return out;
}
