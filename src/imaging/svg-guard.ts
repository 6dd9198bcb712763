import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.js';

/** An `<image>` or `<feImage>` element (any namespace prefix), or a data URI of an image anywhere. */
const EMBEDDED_RASTER = /<([\w.-]+:)?(image|feimage)[\s/>]|data:\s*image\//i;

/**
 * An SVG may spend only the pixels its own size says (checked against MAX_INPUT_PIXELS like any
 * image): a raster inside it would be decoded at its own size, past every limit (a 65 KB SVG can
 * hold a 20000x20000 PNG). So SVGs that embed or link images are refused.
 */
export async function refuseEmbeddedRasters(input: string | Buffer): Promise<void> {
  const text = (Buffer.isBuffer(input) ? input : await readFile(input)).toString('utf8');
  if (EMBEDDED_RASTER.test(text)) {
    throw new AppError(415, 'unsupported_format', 'SVGs that embed or link raster images (<image>, <feImage>, data:image URIs) are not accepted; upload the raster image itself.');
  }
}
