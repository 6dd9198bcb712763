import sharp, { type Sharp, type SharpOptions } from 'sharp';
import type { RawPixels } from '../decode-worker.js';
import { onlyTagWarnings, refuseInvisible } from '../decode-checks.js';
import { FORMATS } from '../../formats/formats.js';
import type { ImageInfo } from '../probe.js';
import { gammaCorrection } from '../png-gamma.js';

/** An original as sharp reads it: its encoded bytes, or pixels one of our decoders made (HEIC, BMP). */
export type SourceImage = Buffer | RawPixels;

/** The most repeats a GIF or WebP can say (a 16-bit field); libvips reads some files' "forever" as 65536. */
const MAX_LOOP = 65535;

/** The frame timing of an animation. */
export interface Timing {
  delay?: number[];
  loop?: number;
}

/** The decoded picture every variant is made from: oriented, in sRGB, at `width` x `height` a frame. */
export interface Decoded {
  width: number;
  height: number;
  /** Frames; more than 1 only for an animation an output keeps. */
  pages: number;
  timing: Timing;
  /** A fresh pipeline over the pixels, with `pages` frames or only the first. */
  open(pages: number): Sharp;
}

export interface DecodePlan {
  /** Frames to keep: 1 for a still picture (or an animation no output keeps). */
  pages: number;
  /** How far every variant lets the picture shrink while it is decoded (1 = full size). */
  scale: number;
  maxInputPixels: number;
  timeout?: { seconds: number };
}

const open = (source: SourceImage, options: SharpOptions) =>
  Buffer.isBuffer(source) ? sharp(source, options) : sharp(source.data, { ...options, raw: { width: source.width, height: source.height, channels: source.channels } });

/** Orientation and colour, the same for every variant: EXIF orientation applied, a PNG's gamma honoured, sRGB. */
function orientAndColour(image: Sharp, info: ImageInfo): Sharp {
  let out = image.autoOrient();
  // A PNG in another gamma than the usual (linear light, say), brought to it as browsers do.
  const correction = info.gamma === undefined ? undefined : gammaCorrection(info.gamma);
  if (correction) out = out.gamma(...correction);
  return out.toColourspace('srgb');
}

/**
 * The decode step. A still picture is decoded once, straight to the smallest size that still serves
 * the largest variant (JPEG shrink-on-load does most of that), and its pixels are shared by every
 * variant. An animation is read again by each variant instead: all its frames held at once would
 * cost frames times the pixels of one.
 */
export async function decode(source: SourceImage, info: ImageInfo, plan: DecodePlan): Promise<Decoded> {
  const failOn = FORMATS[info.format].failOn;
  const withTimeout = (image: Sharp) => (plan.timeout ? image.timeout(plan.timeout) : image);
  if (plan.pages > 1 && Buffer.isBuffer(source)) {
    const { delay, loop } = await sharp(source, { animated: true, pages: plan.pages }).metadata();
    return {
      width: info.width,
      height: info.height,
      pages: plan.pages,
      timing: { ...(delay ? { delay } : {}), ...(loop !== undefined ? { loop: Math.min(Math.max(0, loop), MAX_LOOP) } : {}) },
      open: (pages) =>
        withTimeout(orientAndColour(sharp(source, { failOn, limitInputPixels: plan.maxInputPixels * pages, animated: pages > 1, pages }), info)),
    };
  }

  const still = (level: SharpOptions['failOn']) => stillPipeline(source, info, plan, level).raw().toBuffer({ resolveWithObject: true });
  const { data, info: out } = await forgivingTags(failOn, still);
  await refuseInvisible(data, out);
  const raw = { width: out.width, height: out.height, channels: out.channels };
  return { width: out.width, height: out.height, pages: 1, timing: {}, open: () => withTimeout(sharp(data, { raw })) };
}

/** A still picture's pipeline up to its pixels: read, oriented, in sRGB, shrunk as the plan says. */
function stillPipeline(source: SourceImage, info: ImageInfo, plan: DecodePlan, level: SharpOptions['failOn']): Sharp {
  const image = orientAndColour(open(source, { failOn: level, limitInputPixels: plan.maxInputPixels }), info);
  const sized = plan.scale < 1 ? image.resize(...shrunk(info, plan.scale), { fit: 'fill' }) : image;
  return plan.timeout ? sized.timeout(plan.timeout) : sized;
}

const shrunk = (info: Pick<ImageInfo, 'width' | 'height'>, scale: number): [number, number] => [Math.max(1, Math.round(info.width * scale)), Math.max(1, Math.round(info.height * scale))];

/**
 * Runs `read` at the format's level of strictness, to catch damaged pixel data, and again at
 * `error` where all that was wrong is a tag.
 */
export function forgivingTags<T>(level: SharpOptions['failOn'], read: (level: SharpOptions['failOn']) => Promise<T>): Promise<T> {
  return read(level).catch((error: unknown) => {
    if (level === 'warning' && onlyTagWarnings(error)) return read('error');
    throw error;
  });
}

/**
 * The decode step of an opaque still picture left open: the pipeline `decode` would run to raw
 * pixels, for a caller that takes it on to one variant's resize and encode (render.ts) in the same
 * pipeline. No pixels are kept between, so libvips decodes while it encodes; nor are they looked at,
 * which only a picture with alpha needs (refuseInvisible).
 */
export function decodeOpen(source: SourceImage, info: ImageInfo, plan: DecodePlan, level: SharpOptions['failOn']): Decoded {
  const [width, height] = plan.scale < 1 ? shrunk(info, plan.scale) : [info.width, info.height];
  return { width, height, pages: 1, timing: {}, open: () => stillPipeline(source, info, plan, level) };
}
