import type { Decoded } from './decode.js';

/** The intermediate on-demand renders are made from: the decoded picture, kept as a JPEG. */
export interface Intermediate {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * JPEG at quality 90 without chroma subsampling: a render made from it is within 0.2 dB (PSNR against
 * a lossless downscale) of one made from the original, where 4:2:0 at 95 lost up to 0.9 dB.
 * JPEG, not WebP: libjpeg-turbo encodes and decodes it several times faster. Without optimised
 * Huffman tables (sharp's default, libvips' not): the same pixels in 3% more bytes, encoded 6 to 7
 * times faster (a 1600x1200 photo in 11 ms, not 72).
 */
const ENCODING = { quality: 90, chromaSubsampling: '4:4:4', optimiseCoding: false } as const;

/**
 * The intermediate of a still, opaque picture: the decoded pixels every variant is made from (the
 * largest variant's size), unmarked and unfiltered; none when that keeps more than half the
 * original's pixels (it would gain little over a shrink-on-load of the original).
 */
export async function keepIntermediate(decoded: Decoded, original: { width: number; height: number; hasAlpha: boolean }): Promise<Intermediate | undefined> {
  if (decoded.pages > 1 || original.hasAlpha || decoded.width * decoded.height * 2 > original.width * original.height) return undefined;
  const { data, info } = await decoded.open(1).jpeg(ENCODING).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
