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
 * JPEG, not WebP: libjpeg-turbo encodes and decodes it several times faster.
 */
const ENCODING = { quality: 90, chromaSubsampling: '4:4:4' } as const;

/**
 * The intermediate of a still, opaque picture decoded at most half the original's pixels (smaller
 * gains little over a shrink-on-load of the original itself); else none. Unmarked, unfiltered: the
 * decoded pixels every variant is made from, at the size of the largest variant.
 */
export async function keepIntermediate(decoded: Decoded, original: { width: number; height: number; hasAlpha: boolean }): Promise<Intermediate | undefined> {
  if (decoded.pages > 1 || original.hasAlpha || decoded.width * decoded.height * 2 > original.width * original.height) return undefined;
  const data = await decoded.open(1).jpeg(ENCODING).toBuffer();
  return { data, width: decoded.width, height: decoded.height };
}
