import sharp, { type SharpOptions } from 'sharp';
import { isCrop, type VariantSpec } from '../config/variants.js';
import { blendInto } from './blend.js';
import { refuseInvisible } from './decode-checks.js';
import type { RawPixels } from './decode-worker.js';
import { FORMATS, outputOf } from './formats.js';
import { gammaCorrection } from './png-gamma.js';
import type { ImageInfo } from './probe.js';
import { encode, isAnimated, outputFormatsFor, place, renderVariant, resizedSize, resizeFit, type RenderedVariant, type RenderOptions } from './render.js';
import { carriesMark, watermarkFor } from './watermark.js';

/** How far one variant needs the original scaled down (1 = full size) before its own resize and crop. */
function scaleNeeded(info: ImageInfo, spec: VariantSpec): number {
  const x = spec.width / info.width;
  const y = spec.height / info.height;
  return Math.min(1, isCrop(spec.fit) ? Math.max(x, y) : Math.min(x, y));
}

/** An original as sharp reads it: its encoded bytes, or pixels already decoded (HEIC, BMP). */
export type SourceImage = Buffer | RawPixels;

const open = (source: SourceImage, options: SharpOptions) =>
  Buffer.isBuffer(source) ? sharp(source, options) : sharp(source.data, { ...options, raw: { width: source.width, height: source.height, channels: source.channels } });

/**
 * Renders every variant of one image. A still image is decoded once, straight to the smallest size
 * that still serves the largest variant (JPEG shrink-on-load does most of that work), oriented and
 * in sRGB; each variant is then resized from those pixels, and the watermark is blended over its
 * own rectangle only. An animation that an output format keeps goes variant by variant, frames and all.
 */
export async function renderAll(source: SourceImage, info: ImageInfo, specs: VariantSpec[], options: RenderOptions): Promise<RenderedVariant[]> {
  const keepsAnimation = isAnimated(info) && specs.some((spec) => outputFormatsFor(spec, info, options).some((f) => FORMATS[f].animation));
  // Only GIF and WebP animate, and sharp decodes both itself: an animation always comes as bytes.
  if (keepsAnimation && Buffer.isBuffer(source)) {
    const out: RenderedVariant[] = [];
    for (const spec of specs) for (const format of outputFormatsFor(spec, info, options)) out.push(await renderVariant(source, info, spec, options, format));
    return out;
  }

  const timeout = options.timeoutSeconds ? { seconds: Math.max(1, Math.ceil(options.timeoutSeconds)) } : undefined;
  const scale = Math.max(...specs.map((spec) => scaleNeeded(info, spec)));
  let decode = open(source, { failOn: FORMATS[info.format].failOn, limitInputPixels: options.maxInputPixels }).autoOrient();
  // A PNG in another gamma than the usual (linear light, say), brought to it as browsers do.
  const correction = info.gamma === undefined ? undefined : gammaCorrection(info.gamma);
  if (correction) decode = decode.gamma(...correction);
  if (scale < 1) decode = decode.resize(Math.max(1, Math.round(info.width * scale)), Math.max(1, Math.round(info.height * scale)), { fit: 'fill' });
  decode = decode.toColourspace('srgb');
  if (timeout) decode = decode.timeout(timeout);
  const base = await decode.raw().toBuffer({ resolveWithObject: true });
  refuseInvisible(base.data, base.info.channels);
  const raw = { width: base.info.width, height: base.info.height, channels: base.info.channels };

  async function renderOne(spec: VariantSpec): Promise<RenderedVariant[]> {
    const rendered: RenderedVariant[] = [];
    const formats = outputFormatsFor(spec, info, options);
    const target = resizedSize(info, spec);
    let variant = sharp(base.data, { raw });
    if (raw.width !== target.width || raw.height !== target.height) {
      // Exactly the size one pipeline from the original would give, not a rounding of a rounding.
      variant = variant.resize(target.width, target.height, isCrop(spec.fit) ? resizeFit(spec.fit) : { fit: 'fill' });
    }
    if (timeout) variant = variant.timeout(timeout);

    const mark = options.watermark;
    const marked = carriesMark(mark, target.width);
    if (marked || formats.length > 1) {
      // Resized once to raw pixels, marked over its own rectangle, then encoded in each format.
      const pixels = await variant.raw().toBuffer({ resolveWithObject: true });
      if (marked) {
        const stamp = await watermarkFor(mark.text, pixels.info.width, mark.opacity);
        // A mark that cannot fit (a thin strip of an image) is left out rather than cropped.
        if (stamp.width <= pixels.info.width && stamp.height <= pixels.info.height) {
          const at = place(mark.position, pixels.info.width, pixels.info.height, stamp.width, stamp.height);
          blendInto(pixels.data, pixels.info.width, pixels.info.channels, stamp, at.left, at.top);
        }
      }
      variant = sharp(pixels.data, { raw: { width: pixels.info.width, height: pixels.info.height, channels: pixels.info.channels } });
    }
    for (const format of formats) {
      let output = formats.length > 1 ? variant.clone() : variant;
      if (raw.channels === 4 && !outputOf(format).alpha) output = output.flatten({ background: '#ffffff' });
      const { data, info: out } = await encode(output, format, options.quality).toBuffer({ resolveWithObject: true });
      rendered.push({ name: spec.name, data, format, width: out.width, height: out.height, pages: 1 });
    }
    return rendered;
  }

  // Side by side: each variant reads the shared pixels and makes its own, so on an idle server the
  // encodes of one image spread over the cores instead of queueing on one.
  return (await Promise.all(specs.map(renderOne))).flat();
}
