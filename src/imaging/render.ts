import sharp, { type Sharp } from 'sharp';
import { isCrop, type Fit, type VariantSpec } from '../config/variants.js';
import type { WatermarkPosition } from '../config/config.js';
import { AUTO_OUTPUT, FORMATS, outputOf, type OutputFormat } from './formats.js';
import type { ImageInfo } from './probe.js';
import { carriesMark, watermarkFor, type Watermark } from './watermark.js';

export interface RenderOptions {
  /** OUTPUT_FORMAT; a variant's own format wins over it. */
  outputFormat: OutputFormat | 'auto';
  /** OUTPUT_FORMATS: every variant in each of these (a variant's own format still wins). */
  outputFormats?: OutputFormat[];
  quality: number;
  maxInputPixels: number;
  maxAnimationFrames: number;
  /** Absent when this image is not watermarked. */
  watermark?: { text: string; position: WatermarkPosition; opacity: number; minWidth: number };
  /** Seconds libvips may spend on this one variant. */
  timeoutSeconds?: number;
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

/** Chooses the output format: a variant's own, else OUTPUT_FORMAT, where `auto` keeps animation and alpha. */
export function outputFormatFor(spec: VariantSpec, info: ImageInfo, configured: RenderOptions['outputFormat']): OutputFormat {
  if (spec.format) return spec.format;
  if (configured !== 'auto') return configured;
  if (isAnimated(info)) return AUTO_OUTPUT.animated;
  return info.hasAlpha ? AUTO_OUTPUT.alpha : AUTO_OUTPUT.opaque;
}

/** Every format a variant is rendered in: its own, else OUTPUT_FORMATS, else the one of `outputFormatFor`. */
export function outputFormatsFor(spec: VariantSpec, info: ImageInfo, options: Pick<RenderOptions, 'outputFormat' | 'outputFormats'>): OutputFormat[] {
  if (!spec.format && options.outputFormats?.length) return options.outputFormats;
  return [outputFormatFor(spec, info, options.outputFormat)];
}

export const isAnimated = (info: ImageInfo) => info.pages > 1 && FORMATS[info.format].animation;

/**
 * Renders one variant from the original's bytes: EXIF orientation applied, converted to sRGB
 * (through an embedded ICC profile or from CMYK), every metadata block dropped, never enlarged,
 * alpha kept or flattened onto white, animation kept when the output format can hold it.
 */
export async function renderVariant(
  source: Buffer,
  info: ImageInfo,
  spec: VariantSpec,
  options: RenderOptions,
  format: OutputFormat = outputFormatFor(spec, info, options.outputFormat),
): Promise<RenderedVariant> {
  const animated = isAnimated(info) && FORMATS[format].animation;
  const framePixels = info.width * info.height;
  // Keep as many frames as both the frame cap and the pixel budget allow.
  const pages = animated ? Math.max(1, Math.min(info.pages, options.maxAnimationFrames, Math.floor(options.maxInputPixels / framePixels))) : 1;

  let image = sharp(source, {
    failOn: FORMATS[info.format].failOn,
    limitInputPixels: options.maxInputPixels * pages,
    animated,
    pages,
  })
    .autoOrient()
    .resize(spec.width, spec.height, { ...resizeFit(spec.fit, animated), withoutEnlargement: true })
    .toColourspace('srgb');
  if (options.timeoutSeconds) image = image.timeout({ seconds: Math.max(1, Math.ceil(options.timeoutSeconds)) });
  if (info.hasAlpha && !outputOf(format).alpha) image = image.flatten({ background: '#ffffff' });

  const size = resizedSize(info, spec);
  const mark = options.watermark;
  const stamp = carriesMark(mark, size.width) ? await watermarkFor(mark.text, size.width, mark.opacity) : undefined;
  // A mark that cannot fit (a thin strip of an image) is left out rather than cropped.
  const fits = stamp && stamp.width <= size.width && stamp.height <= size.height;
  let timing: Animation | undefined;
  if (mark && stamp && fits && pages > 1) {
    const { delay, loop } = await sharp(source, { animated: true, pages }).metadata();
    timing = { ...(delay ? { delay } : {}), ...(loop !== undefined ? { loop } : {}) };
    image = await stampEveryFrame(image, pages, stamp, mark.position);
  } else if (mark && stamp && fits) {
    image = image.composite([{ input: stamp.data, raw: { width: stamp.width, height: stamp.height, channels: 4 }, gravity: mark.position }]);
  }
  // Compositing adds an alpha channel; an opaque original should not come out with one.
  if (!info.hasAlpha && stamp) image = image.removeAlpha();

  const { data, info: out } = await encode(image, format, options.quality, timing).toBuffer({ resolveWithObject: true });
  return { name: spec.name, data, format, width: out.width, height: out.pageHeight ?? out.height / pages, pages };
}

export interface Animation {
  delay?: number[];
  loop?: number;
}

/**
 * sharp composites once per image, not once per frame, so an animation is resized to raw frames
 * first and every frame gets its own copy of the mark.
 */
async function stampEveryFrame(image: Sharp, pages: number, stamp: Watermark, position: WatermarkPosition): Promise<Sharp> {
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const frameHeight = info.height / pages;
  const at = place(position, info.width, frameHeight, stamp.width, stamp.height);
  const overlays = Array.from({ length: pages }, (_, frame) => ({
    input: stamp.data,
    raw: { width: stamp.width, height: stamp.height, channels: 4 as const },
    left: at.left,
    top: frame * frameHeight + at.top,
  }));
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels, pageHeight: frameHeight } }).composite(overlays);
}

/** The top-left corner that puts a `width` x `height` box at `position` inside the frame. */
export function place(position: WatermarkPosition, frameWidth: number, frameHeight: number, width: number, height: number) {
  const left = position.includes('west') ? 0 : position.includes('east') ? frameWidth - width : Math.floor((frameWidth - width) / 2);
  const top = position.startsWith('north') ? 0 : position.startsWith('south') ? frameHeight - height : Math.floor((frameHeight - height) / 2);
  return { left, top };
}

/** sharp's resize options for a fit; smart crops judge one picture, so an animation is cropped in the centre. */
export function resizeFit(fit: Fit, animated = false): { fit: 'cover' | 'inside'; position?: number } {
  if (fit === 'inside') return { fit: 'inside' };
  if (fit === 'cover' || animated) return { fit: 'cover' };
  return { fit: 'cover', position: fit === 'attention' ? sharp.strategy.attention : sharp.strategy.entropy };
}

/** The size sharp will produce, computed up front so the watermark can be sized before the pipeline runs. */
export function resizedSize(info: Pick<ImageInfo, 'width' | 'height'>, spec: VariantSpec): { width: number; height: number } {
  if (isCrop(spec.fit)) return { width: Math.min(info.width, spec.width), height: Math.min(info.height, spec.height) };
  const scale = Math.min(1, spec.width / info.width, spec.height / info.height);
  return { width: Math.max(1, Math.round(info.width * scale)), height: Math.max(1, Math.round(info.height * scale)) };
}

/** Encodes with the registry's options for the format; an animation keeps its frame timing. */
export function encode(image: Sharp, format: OutputFormat, quality: number, animation: Animation = {}): Sharp {
  return image.toFormat(format, { ...outputOf(format).options(quality), ...(FORMATS[format].animation ? animation : {}) });
}
