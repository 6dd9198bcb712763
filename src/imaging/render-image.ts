import type { Config } from '../config/config.js';
import type { VariantSpec } from '../config/variants.js';
import { AppError } from '../errors.js';
import { decodeFailure } from './decode-failure.js';
import { decodeForeign, foreignPixelBudget, isForeign } from './foreign.js';
import type { Intermediate } from './pipeline/intermediate.js';
import { renderAll, type RenderedVariant, type RenderSettings } from './pipeline/render.js';
import { probeImage, type ImageInfo } from './probe.js';
import { hasMark } from './watermark.js';

export interface ImagingSettings extends Omit<RenderSettings, 'timeoutSeconds'> {
  variants: VariantSpec[];
  allowSvg: boolean;
  /** The whole job's deadline: probe, decode, every variant. */
  processTimeoutMs: number;
  /** The memory the process may use (Lambda's memory size); our own decoders stay within it. */
  memoryLimitMb?: number;
  /**
   * The bytes are an original's intermediate, and this is the original's size (as displayed): every
   * size is computed from it, so a render is the same size whichever it was made from.
   */
  originalSize?: { width: number; height: number };
}

export type ImagingConfig = Pick<Config, 'variants' | 'outputFormat' | 'outputFormats' | 'quality' | 'watermark' | 'maxInputPixels' | 'allowSvg' | 'maxAnimationFrames' | 'processTimeoutMs'> &
  Partial<Pick<Config, 'memoryLimitMb'>>;

export interface RenderedImage {
  info: ImageInfo;
  variants: RenderedVariant[];
  /** With `keepIntermediate`, for a picture that has one. */
  intermediate?: Intermediate;
}

/** The settings of a run from the configuration; `watermark` says whether this image is marked. */
export function imagingSettings(config: ImagingConfig, watermark: boolean): ImagingSettings {
  return {
    variants: config.variants,
    outputFormat: config.outputFormat,
    ...(config.outputFormats ? { outputFormats: config.outputFormats } : {}),
    quality: config.quality,
    maxInputPixels: config.maxInputPixels,
    maxAnimationFrames: config.maxAnimationFrames,
    allowSvg: config.allowSvg,
    processTimeoutMs: config.processTimeoutMs,
    ...(config.memoryLimitMb ? { memoryLimitMb: config.memoryLimitMb } : {}),
    ...(watermark && hasMark(config.watermark) ? { watermark: config.watermark } : {}),
  };
}

/** Where a render waits its turn (a gate of CONCURRENCY slots); by default it runs at once. */
export interface Slot {
  run<T>(work: () => Promise<T>): Promise<T>;
}
const ANY_TIME: Slot = { run: (work) => work() };

/**
 * An original's bytes in, every variant out: judged by its header, decoded (HEIC and BMP by our
 * decoders in worker threads, the rest by sharp), rendered. Touches no storage, so the server's
 * processor and the batch CLI share it. Failures are AppErrors in our words (422 and a code). With a
 * `slot`, the render waits for it, and its deadline counts from when it starts.
 */
export function renderImage(bytes: Buffer, settings: ImagingSettings, slot: Slot = ANY_TIME): Promise<RenderedImage> {
  return new Promise((resolve, reject) => {
    // The slot is held until the work itself ends, not until its deadline's answer: work libvips
    // cannot interrupt (an AVIF encode) still counts against CONCURRENCY, so a retry cannot push past it.
    slot
      .run(() => {
        const work = render(bytes, settings);
        withDeadline(work, settings.processTimeoutMs).then(resolve, reject);
        return work;
      })
      .catch(() => undefined);
  });
}

async function render(bytes: Buffer, settings: ImagingSettings): Promise<RenderedImage> {
  const probed = await probeImage(bytes, settings);
  const info = settings.originalSize ? { ...probed, ...settings.originalSize } : probed;
  try {
    const source = isForeign(info.format)
      ? await decodeForeign(bytes, info.format, { maxPixels: Math.min(settings.maxInputPixels, foreignPixelBudget(settings.memoryLimitMb)), timeoutMs: settings.processTimeoutMs })
      : bytes;
    return { info, ...(await renderAll(source, info, settings.variants, { ...settings, timeoutSeconds: settings.processTimeoutMs / 1000 })) };
  } catch (error) {
    // A decoder's failure is described in our words, naming the format the header told.
    throw decodeFailure(error, info.format, bytes);
  }
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError(422, 'timeout', `Processing took longer than ${ms} ms.`)), ms);
  });
  // The loser of the race still settles later; its rejection is already accounted for.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
