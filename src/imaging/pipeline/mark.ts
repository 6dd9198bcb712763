import type { WatermarkPosition } from '../../config/config.js';
import { blendInto } from '../blend.js';
import { carriesMark, stampsFor, type WatermarkSettings } from '../watermark.js';

/** The mark as settings give it, with where it goes. */
export type PlacedMark = WatermarkSettings & { position: WatermarkPosition };

/** Raw 8-bit pixels of `pages` frames stacked top to bottom, `height` rows each. */
export interface Frames {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
  pages: number;
}

/** The top-left corner that puts a `width` x `height` box at `position` inside the frame. */
export function place(position: WatermarkPosition, frameWidth: number, frameHeight: number, width: number, height: number) {
  const left = position.includes('west') ? 0 : position.includes('east') ? frameWidth - width : Math.floor((frameWidth - width) / 2);
  const top = position.startsWith('north') ? 0 : position.startsWith('south') ? frameHeight - height : Math.floor((frameHeight - height) / 2);
  return { left, top };
}

/**
 * The mark step, the only way a watermark is placed: the stamp for this width (rendered once per
 * size and kept) blended over its own rectangle of every frame, in place. A mark that cannot fit (a
 * thin strip of an image) is left out rather than cropped.
 */
export async function markFrames(frames: Frames, mark: PlacedMark): Promise<void> {
  if (!carriesMark(mark, frames.width)) return;
  // A logo and a text are one block, the logo on top, each aligned to the position's side.
  const stamps = await stampsFor(mark, frames.width);
  const width = Math.max(...stamps.map((stamp) => stamp.width));
  const height = stamps.reduce((sum, stamp) => sum + stamp.height, 0);
  if (width > frames.width || height > frames.height) return;
  const block = place(mark.position, frames.width, frames.height, width, height);
  let top = block.top;
  for (const stamp of stamps) {
    const { left } = place(mark.position, width, height, stamp.width, stamp.height);
    for (let frame = 0; frame < frames.pages; frame++) blendInto(frames.data, frames.width, frames.channels, stamp, block.left + left, frame * frames.height + top);
    top += stamp.height;
  }
}
