import { AppError } from '../errors.js';

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
