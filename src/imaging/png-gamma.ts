import { readRange } from './read-range.js';

/** How much of a PNG's start is read for its chunks before the image data (an ICC profile can be large). */
const CHUNK_SCAN_BYTES = 256 * 1024;

/**
 * The encoding gamma a PNG declares in a gAMA chunk (0.45455 for the usual 1/2.2, 1.0 for linear
 * light), when it has no colour profile (iCCP), sRGB or cICP chunk that would take precedence.
 * libvips ignores gAMA, so a linear PNG comes out far darker than browsers show it.
 */
export async function pngGamma(input: string | Buffer): Promise<number | undefined> {
  const head = await readRange(input, 0, CHUNK_SCAN_BYTES);
  let gamma: number | undefined;
  for (let at = 8; at + 8 <= head.length; ) {
    const length = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'iCCP' || type === 'sRGB' || type === 'cICP') return undefined;
    if (type === 'gAMA' && length === 4 && at + 12 <= head.length) gamma = head.readUInt32BE(at + 8) / 100_000;
    at += 12 + length;
  }
  return gamma !== undefined && gamma > 0 ? gamma : undefined;
}

/**
 * sharp's `gamma(a, b)` arguments that turn pixels encoded with `fileGamma` into the usual sRGB-like
 * encoding (1/2.2): `a/b` is the exponent, and both must lie in 1 to 3. Undefined when nothing
 * needs doing (the file is already about 1/2.2).
 */
export function gammaCorrection(fileGamma: number): [number, number] | undefined {
  const exponent = 1 / (2.2 * fileGamma);
  if (Math.abs(exponent - 1) < 0.02) return undefined;
  const clamp = (x: number) => Math.min(3, Math.max(1, x));
  return exponent > 1 ? [clamp(exponent), 1] : [1, clamp(1 / exponent)];
}
