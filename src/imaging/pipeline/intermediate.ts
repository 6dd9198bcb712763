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
 * Its longest side, at most. Small renders are mostly decode (a 12 MP JPEG's entropy data is read
 * whole whatever the shrink-on-load), large ones mostly encode: at 1,024 px it makes `320` 3x and
 * `960` 1.5x cheaper, and costs the HTTP path about 12% on 12 MP photos (so it is ONDEMAND_INTERMEDIATE's
 * choice); at 1,600 px it made `1280` 1.4x cheaper too, but cost over 20%.
 */
const MAX_SIDE = 1024;

/**
 * The intermediate of a still, opaque picture: the decoded pixels every variant is made from (the
 * largest variant's size), unmarked and unfiltered, brought within MAX_SIDE; none when that keeps
 * more than half the original's pixels (it would gain little over a shrink-on-load of the original).
 */
export async function keepIntermediate(decoded: Decoded, original: { width: number; height: number; hasAlpha: boolean }): Promise<Intermediate | undefined> {
  const scale = Math.min(1, MAX_SIDE / Math.max(decoded.width, decoded.height));
  const width = Math.max(1, Math.round(decoded.width * scale));
  const height = Math.max(1, Math.round(decoded.height * scale));
  if (decoded.pages > 1 || original.hasAlpha || width * height * 2 > original.width * original.height) return undefined;
  const image = scale < 1 ? decoded.open(1).resize(width, height, { fit: 'fill' }) : decoded.open(1);
  const { data, info } = await image.jpeg(ENCODING).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
