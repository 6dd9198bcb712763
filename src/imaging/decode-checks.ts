import sharp from 'sharp';
import { AppError } from '../errors.js';

/** Pixels looked at on the event loop; past them libvips, off the loop, reads the rest. */
const SCANNED_HERE = 16_384;

/**
 * Refuses decoded pixels that show nothing: with an alpha channel (the last of `channels`) that is
 * zero everywhere. That is what a loader's unreadable region looks like, and an image service has
 * nothing to render from it. A normal image shows a visible pixel within the first few reads; a
 * large, mostly transparent one is not walked here, where it would hold up every other client.
 */
export async function refuseInvisible(pixels: Buffer, raw: { width: number; height: number; channels: number }): Promise<void> {
  const { channels } = raw;
  if (channels !== 2 && channels !== 4) return;
  const scanned = Math.min(pixels.length, SCANNED_HERE * channels);
  for (let i = channels - 1; i < scanned; i += channels) if (pixels[i] !== 0) return;
  if (scanned < pixels.length) {
    const alpha = await sharp(pixels, { raw: raw as { width: number; height: number; channels: 2 | 4 } }).extractChannel(channels === 4 ? 3 : 1).stats();
    if (alpha.channels[0]!.max > 0) return;
  }
  throw new AppError(422, 'decode_failed', 'The image decodes to nothing visible: every pixel is transparent. It may use a feature this server cannot decode.');
}
