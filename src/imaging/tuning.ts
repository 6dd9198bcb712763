import sharp from 'sharp';

/**
 * Process-wide sharp settings for a long-running worker. libvips' operation cache keeps decoded
 * images alive between unrelated uploads; we never render the same input twice in a row, so it
 * only costs memory.
 */
export function tuneSharp(): void {
  sharp.cache(false);
}
