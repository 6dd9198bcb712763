import type { Config } from '../config/config.js';
import { FITS, type Fit } from '../config/variants.js';
import { AppError } from '../errors.js';
import { FORMATS, OUTPUT_FORMATS, type OutputFormat } from '../imaging/formats.js';
import { resizedSize } from '../imaging/pipeline/resize.js';
import { imagingSettings, renderImage, type ImagingConfig } from '../imaging/render-image.js';
import { hasMark } from '../imaging/watermark.js';
import type { Gate } from '../processing/gate.js';
import { originalKey, renderKey } from '../processing/keys.js';
import { fromObjectMetadata, originalInfo } from '../processing/original-metadata.js';
import { getBuffer, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { notFound } from './images.js';

/** One on-demand size of an image. */
export interface RenderSpec {
  width: number;
  height: number;
  fit: Fit;
  format: OutputFormat;
}

/** The longest side a request may name; `inside` without a height means "as tall as the width makes it". */
const MAX_SIDE = 16384;

/** The name a render is stored and linked under: every parameter in it, so the signature covers them all. */
export const renderName = ({ width, height, fit, format }: RenderSpec) => `w${width}-h${height}-${fit}.${FORMATS[format].extension}`;

const NAME = new RegExp(`^w(\\d{1,5})-h(\\d{1,5})-(${FITS.join('|')})\\.(${OUTPUT_FORMATS.map((f) => FORMATS[f].extension).join('|')})$`);

export function parseRenderName(name: string): RenderSpec | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const format = OUTPUT_FORMATS.find((f) => FORMATS[f].extension === match[4])!;
  const spec = { width: Number(match[1]), height: Number(match[2]), fit: match[3] as Fit, format };
  return spec.width >= 1 && spec.height >= 1 && spec.width <= MAX_SIDE && spec.height <= MAX_SIDE ? spec : undefined;
}

export type RenderConfig = ImagingConfig & Pick<Config, 'onDemand'>;

/**
 * What a request for a size resolves to, or a 422 saying why it is refused: a width outside
 * ONDEMAND_WIDTHS, or more pixels than ONDEMAND_MAX_PIXELS (counted as the render will have them).
 */
export function resolveRender(config: RenderConfig, original: ObjectInfo, ask: { width: number; height?: number | undefined; fit?: Fit | undefined; format?: OutputFormat | undefined }): RenderSpec {
  const { widths, maxPixels } = config.onDemand;
  if (widths && !widths.includes(ask.width)) throw new AppError(422, 'width_not_allowed', `Width ${ask.width} is not one this server renders (${widths.join(', ')}).`);
  const fit = ask.fit ?? 'inside';
  const format = ask.format ?? (config.outputFormat === 'auto' ? 'webp' : config.outputFormat);
  const spec = { width: ask.width, height: ask.height ?? MAX_SIDE, fit, format };
  const { width, height } = originalInfo(original);
  const size = resizedSize(width && height ? { width, height } : { width: spec.width, height: spec.width }, spec);
  if (size.width * size.height > maxPixels) {
    throw new AppError(422, 'too_many_pixels', `${size.width}x${size.height} is more than the ${maxPixels} pixels a render may have (ONDEMAND_MAX_PIXELS).`);
  }
  return spec;
}

/**
 * A render of an image, from storage when it was made before, else made now from the original
 * (with the image's own watermark choice) and stored beside its variants, so deleting the image
 * deletes it. Rendering holds a slot of `gate`.
 */
export async function storedRender(deps: { input: ObjectStore; output: ObjectStore; config: RenderConfig; gate: Gate }, id: string, spec: RenderSpec): Promise<ObjectInfo> {
  const { input, output, config } = deps;
  const key = renderKey(id, renderName(spec));
  const original = await input.head(originalKey(id));
  if (!original) throw notFound(id);
  const stored = await output.head(key);
  if (stored) return stored;
  const bytes = await getBuffer(input, originalKey(id));
  if (!bytes) throw notFound(id);
  const watermark = fromObjectMetadata(original.metadata).watermark ?? hasMark(config.watermark);
  const settings = { ...imagingSettings(config, watermark), variants: [{ name: 'render', width: spec.width, height: spec.height, fit: spec.fit, formats: [spec.format] }] };
  const { variants } = await deps.gate.run(() => renderImage(bytes, settings));
  const info = await output.put(key, variants[0]!.data, { contentType: FORMATS[spec.format].mime });
  // Deleted meanwhile: the render must not outlive its image (written first, checked after).
  if (!(await input.head(originalKey(id)))) {
    await output.delete(key);
    throw notFound(id);
  }
  return info;
}
