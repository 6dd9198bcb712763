import { decodeBmp } from './bmp.js';
import type { DecodeLimits, RawPixels } from './decode-worker.js';
import { FORMATS, type InputFormat } from '../formats/formats.js';
import { decodeHeif } from './heif.js';

/** Inputs that the libvips inside sharp's prebuilt binaries cannot decode (HEVC-coded HEIC, BMP): ours do. */
export const isForeign = (format: InputFormat) => FORMATS[format].decoder !== 'libvips';

const DECODERS = { libheif: decodeHeif, 'strict-bmp': decodeBmp };

/** What a process needs besides the pixels of the image it decodes: Node, sharp, the bundles. */
const BASELINE_MB = 160;
/**
 * Bytes per pixel at the peak of a HEIC decode: the decoder's YCbCr planes (1.5) and its RGB
 * output (3) in WebAssembly memory, and the copy handed back (3), with room for rounding.
 */
const PEAK_BYTES_PER_PIXEL = 8;

/**
 * The most pixels a HEIC or BMP may have to be decoded within a memory limit (Lambda's memory
 * size): larger ones fail with `too_many_pixels` instead of the process being killed. No limit
 * given (a server with the machine's memory), no budget.
 */
export function foreignPixelBudget(memoryLimitMb: number | undefined): number {
  if (!memoryLimitMb) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor(((memoryLimitMb - BASELINE_MB) * 1024 * 1024) / PEAK_BYTES_PER_PIXEL));
}

/**
 * Decodes a HEIC or BMP original straight to raw pixels, which sharp reads as they are (no
 * lossless PNG in between to encode and decode again), each in a worker thread under a deadline.
 * Both decoders check their own reading of the pixel count against `limits.maxPixels`.
 */
export async function decodeForeign(source: Buffer, format: InputFormat, limits: DecodeLimits): Promise<RawPixels> {
  const { decoder } = FORMATS[format];
  if (decoder === 'libvips') throw new Error(`${format} is decoded by sharp`);
  return DECODERS[decoder](source, limits);
}
