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
    // stats() reads every channel of its input (an extractChannel before it is not applied): alpha is the last.
    const stats = await sharp(pixels, { raw: raw as { width: number; height: number; channels: 2 | 4 } }).stats();
    if (stats.channels[channels - 1]!.max > 0) return;
  }
  throw new AppError(422, 'decode_failed', 'The image decodes to nothing visible: every pixel is transparent. It may use a feature this server cannot decode.');
}

/** libvips' own lines around the warnings it was told to fail on. */
const WRAPPER_LINE = /^(warning treated as error.*|error in (tile|strip|scanline).*)$/i;

/**
 * Whether a TIFF read at libvips' `warning` level failed only over tags (an ASCII GeoTIFF tag
 * without its NUL, a private tag of an odd type): libtiff fixes those and no pixel depends on them,
 * unlike a tile that cannot be inflated, which that level is there to catch.
 */
export function onlyTagWarnings(error: unknown): boolean {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((line) => line.trim()).filter((line) => line && !WRAPPER_LINE.test(line));
  return lines.length > 0 && lines.every((line) => /\btag\b/i.test(line) && !/\b(zlib|lzw|jpeg|decod|corrupt|read error)/i.test(line));
}
