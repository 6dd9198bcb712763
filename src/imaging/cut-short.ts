import type { InputFormat } from '../formats/formats.js';

const PNG_END = Buffer.from('IEND', 'latin1');
const JPEG_END = Buffer.from([0xff, 0xd9]);

/**
 * Whether a file whose decoder failed lacks its own end: a PNG without its IEND chunk, a JPEG
 * without its end-of-image marker, a RIFF (WebP) shorter than its header says. Decoders report these
 * as a read error like any other; the client should hear that the upload was cut short.
 */
export function isCutShort(bytes: Buffer, format: InputFormat): boolean {
  switch (format) {
    case 'png':
      return !bytes.includes(PNG_END);
    case 'jpeg':
      return !bytes.includes(JPEG_END, 2);
    case 'webp':
      return bytes.length >= 8 && bytes.readUInt32LE(4) + 8 > bytes.length;
    default:
      return false;
  }
}
