import { open } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors.js';
import { sniffFormat, SNIFF_BYTES, type InputFormat } from './formats.js';

export interface ProbeLimits {
  maxInputPixels: number;
  allowSvg: boolean;
}

/** What the header says about an image, with width and height as displayed (EXIF orientation applied). */
export interface ImageInfo {
  format: Exclude<InputFormat, 'heif'>;
  width: number;
  height: number;
  /** Frames in an animation or pages in a TIFF; 1 for a still image. */
  pages: number;
  hasAlpha: boolean;
}

const SUPPORTED = 'JPEG, PNG, WebP, GIF, AVIF or TIFF';

async function readHead(input: string | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(0, SNIFF_BYTES);
  const file = await open(input, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * Judges an input by its bytes and its header only, without decoding pixels:
 * 415 when it is not a supported image, 422 when its header is unreadable or over the pixel limit.
 */
export async function probeImage(input: string | Buffer, limits: ProbeLimits): Promise<ImageInfo> {
  const sniffed = sniffFormat(await readHead(input));
  if (!sniffed) throw new AppError(415, 'unsupported_format', `The file is not a supported image (${SUPPORTED}).`);
  if (sniffed === 'svg' && !limits.allowSvg) {
    throw new AppError(415, 'unsupported_format', 'SVG uploads are turned off on this server (ALLOW_SVG).');
  }

  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new AppError(422, 'decode_failed', `The ${sniffed.toUpperCase()} header cannot be read: ${(error as Error).message}`);
  }
  // sharp calls AVIF "heif"; the compression tells AV1 (decodable) from HEVC (not in this build).
  const format = sniffed === 'heif' || sniffed === 'avif' ? (meta.compression === 'av1' ? 'avif' : undefined) : sniffed;
  if (!format) throw new AppError(415, 'unsupported_format', `HEIC/HEVC images are not supported; send ${SUPPORTED}.`);

  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  if (width < 1 || frameHeight < 1) throw new AppError(422, 'decode_failed', 'The image header gives no dimensions.');
  if (width * frameHeight > limits.maxInputPixels) {
    throw new AppError(
      422,
      'too_many_pixels',
      `The image is ${width}x${frameHeight} = ${width * frameHeight} pixels, over the limit of ${limits.maxInputPixels}.`,
    );
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  return {
    format,
    width: rotated ? frameHeight : width,
    height: rotated ? width : frameHeight,
    pages: meta.pages ?? 1,
    hasAlpha: meta.hasAlpha ?? false,
  };
}
