import { createReadStream } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppError } from '../errors.js';

/** An `<image>` or `<feImage>` element (any namespace prefix), or a data URI of an image anywhere. */
const EMBEDDED_RASTER = /<([\w.-]{1,64}:)?(image|feimage)[\s/>]|data:\s{0,64}image\//i;
/** Scanned a piece at a time, each piece with the end of the one before (longer than any match). */
const PIECE_BYTES = 64 * 1024;
const OVERLAP_CHARS = 256;

/**
 * An SVG may spend only the pixels its own size says (checked against MAX_INPUT_PIXELS like any
 * image): a raster inside it would be decoded at its own size, past every limit (a 65 KB SVG can
 * hold a 20000x20000 PNG). So SVGs that embed or link images are refused. The file is scanned in
 * pieces, yielding between them, so a 50 MB upload neither sits whole in memory nor holds the
 * event loop; latin1 maps bytes to characters one to one, and every pattern is ASCII.
 */
export async function refuseEmbeddedRasters(input: string | Buffer): Promise<void> {
  let tail = '';
  for await (const piece of pieces(input)) {
    const text = tail + piece.toString('latin1');
    if (EMBEDDED_RASTER.test(text)) {
      throw new AppError(415, 'unsupported_format', 'SVGs that embed or link raster images (<image>, <feImage>, data:image URIs) are not accepted; upload the raster image itself.');
    }
    tail = text.slice(-OVERLAP_CHARS);
  }
}

async function* pieces(input: string | Buffer): AsyncGenerator<Buffer> {
  if (!Buffer.isBuffer(input)) {
    yield* createReadStream(input, { highWaterMark: PIECE_BYTES }) as AsyncIterable<Buffer>;
    return;
  }
  for (let at = 0; at < input.length; at += PIECE_BYTES) {
    if (at > 0) await nextTurn();
    yield input.subarray(at, at + PIECE_BYTES);
  }
}
