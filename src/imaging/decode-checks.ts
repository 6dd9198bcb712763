import type { FailOnOptions } from 'sharp';
import { AppError } from '../errors.js';
import type { InputFormat } from './formats.js';

/**
 * How much damage libvips may tolerate in each format. A cut-short JPEG or PNG still shows most of
 * the picture, so "truncated" lets it through. A TIFF tile libvips cannot read (corrupt data, or a
 * compression its libtiff lacks) is only a warning there, and the tile is left as zeros: a picture
 * with holes, or nothing at all, would end `done`. TIFF is read at "warning", which in its loader
 * counts pixel data only (unknown tags and odd metadata still pass).
 */
export const failOnFor = (format: InputFormat): FailOnOptions => (format === 'tiff' ? 'warning' : 'truncated');

/**
 * Refuses decoded pixels that show nothing: with an alpha channel (the last of `channels`) that is
 * zero everywhere. That is what a loader's unreadable region looks like, and an image service has
 * nothing to render from it. Stops at the first visible pixel, so a normal image costs a few reads.
 */
export function refuseInvisible(pixels: Uint8Array, channels: number): void {
  if (channels !== 2 && channels !== 4) return;
  for (let i = channels - 1; i < pixels.length; i += channels) if (pixels[i] !== 0) return;
  throw new AppError(422, 'decode_failed', 'The image decodes to nothing visible: every pixel is transparent. It may use a feature this server cannot decode.');
}
