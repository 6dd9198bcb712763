import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

/** What a page can show before a preview arrives: a ThumbHash (base64) and the dominant colour. */
export interface Placeholder {
  thumbhash: string;
  dominantColor: string;
}

/** ThumbHash wants at most 100x100 pixels. */
const THUMBHASH_SIDE = 100;

const hex = (n: number) => Math.round(n).toString(16).padStart(2, '0');

/** Computes the placeholder from a small rendering of the image (the thumbnail will do). */
export async function makePlaceholder(image: Buffer): Promise<Placeholder> {
  const small = sharp(image).resize(THUMBHASH_SIDE, THUMBHASH_SIDE, { fit: 'inside' });
  const [{ data, info }, stats] = await Promise.all([small.clone().ensureAlpha().raw().toBuffer({ resolveWithObject: true }), small.clone().stats()]);
  const { r, g, b } = stats.dominant;
  return {
    thumbhash: Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64'),
    dominantColor: `#${hex(r)}${hex(g)}${hex(b)}`,
  };
}
