import type { Watermark } from './stamp.js';

/**
 * Blends the mark into raw 8-bit pixels (3 or 4 channels) at `left`,`top`, in place. Only the
 * mark's own rectangle is touched: a few thousand pixels, instead of compositing the whole image.
 */
export function blendInto(pixels: Buffer, width: number, channels: number, mark: Watermark, left: number, top: number): void {
  for (let y = 0; y < mark.height; y++) {
    let source = y * mark.width * 4;
    let target = ((top + y) * width + left) * channels;
    for (let x = 0; x < mark.width; x++, source += 4, target += channels) {
      const alpha = mark.data[source + 3]! / 255;
      if (alpha === 0) continue;
      for (let c = 0; c < 3; c++) pixels[target + c] = Math.round(mark.data[source + c]! * alpha + pixels[target + c]! * (1 - alpha));
      if (channels === 4) pixels[target + 3] = Math.round(255 * alpha + pixels[target + 3]! * (1 - alpha));
    }
  }
}
