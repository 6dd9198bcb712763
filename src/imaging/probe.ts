import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors.js';
import { decodeFailure } from './decode-failure.js';
import { readBmpHeader } from './bmp.js';
import { refuseEmbeddedRasters } from './svg-guard.js';
import { pngGamma } from './png-gamma.js';
import { readRange } from './read-range.js';
import { refuseUnsupportedTiff } from './tiff-kind.js';
import type { InputFormat } from '../formats/formats.js';
import { sniffFormat, SNIFF_BYTES } from '../formats/sniff.js';
import { notAccepted } from '../formats/not-accepted.js';
import { overPixelLimit } from '../human-sizes.js';

export interface ProbeLimits {
  maxInputPixels: number;
  allowSvg: boolean;
}

/** What the header says about an image, with width and height as displayed (EXIF orientation applied). */
export interface ImageInfo {
  format: InputFormat;
  width: number;
  height: number;
  /** Frames in an animation or pages in a TIFF; 1 for a still image. */
  pages: number;
  hasAlpha: boolean;
  /** A PNG's declared encoding gamma, when no colour profile overrides it (see png-gamma.ts). */
  gamma?: number;
}

/**
 * Judges an input by its bytes and its header only, without decoding pixels:
 * 415 when it is not a supported image, 422 when its header is unreadable or over the pixel limit.
 */
export async function probeImage(input: string | Buffer, limits: ProbeLimits): Promise<ImageInfo> {
  const head = await readRange(input, 0, SNIFF_BYTES);
  const sniffed = sniffFormat(head);
  if (!sniffed || (sniffed === 'svg' && !limits.allowSvg)) throw notAccepted(sniffed === 'svg', limits);

  if (sniffed === 'svg') await refuseEmbeddedRasters(input);
  if (sniffed === 'tiff') await refuseUnsupportedTiff(input);
  if (sniffed === 'bmp') return checkPixels({ format: 'bmp', pages: 1, ...readBmpHeader(head) }, limits);

  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeFailure(error, sniffed, Buffer.isBuffer(input) ? input : undefined);
  }
  // sharp calls AVIF "heif"; the compression tells AV1 (sharp decodes it) from HEVC (decoded by libheif, see foreign.ts).
  const format = sniffed === 'heif' || sniffed === 'avif' ? (meta.compression === 'av1' ? 'avif' : 'heif') : sniffed;

  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  // HEIC rotates with its own boxes, which libheif applies; EXIF orientation there is informational.
  const rotated = format !== 'heif' && (meta.orientation ?? 1) >= 5;
  return checkPixels(
    {
      format,
      width: rotated ? frameHeight : width,
      height: rotated ? width : frameHeight,
      pages: format === 'heif' ? 1 : (meta.pages ?? 1),
      hasAlpha: meta.hasAlpha ?? false,
      ...(format === 'png' ? await gammaOf(input) : {}),
    },
    limits,
  );
}

function checkPixels(info: ImageInfo, limits: ProbeLimits): ImageInfo {
  if (info.width < 1 || info.height < 1) throw new AppError(422, 'decode_failed', 'The image header gives no dimensions.');
  const pixels = info.width * info.height;
  if (pixels > limits.maxInputPixels) {
    throw new AppError(422, 'too_many_pixels', overPixelLimit(info.width, info.height, limits.maxInputPixels));
  }
  return info;
}

async function gammaOf(input: string | Buffer): Promise<{ gamma?: number }> {
  const gamma = await pngGamma(input);
  return gamma === undefined ? {} : { gamma };
}
