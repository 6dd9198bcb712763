import { readRange } from './read-range.js';
import { AppError } from '../errors.js';

/** How far into a file the first directory of a TIFF may sit and still be read. */
const MAX_IFD_OFFSET = 64 * 1024 * 1024;

/** Tags of a first directory (IFD0) that say "this is a camera's raw file, not a picture". */
const RAW_TAGS = new Set([
  50706, // DNGVersion
  330, // SubIFDs: the full-size raw sits in a sub-directory, IFD0 is a preview
  33421, // CFARepeatPatternDim
  33422, // CFAPattern
  33424, // KodakIFD (KDC, DCR)
]);
const RAW_PHOTOMETRIC = new Set([32803, 34892]); // colour filter array, linear raw
const RAW_COMPRESSION = new Set([262, 32767, 32769, 32770, 34713, 65000, 65535]); // Kodak, Sony, packed, Samsung, Nikon, Kodak DCR, Pentax

/**
 * Refuses, by the TIFF's own first directory, what libvips would decode wrongly: camera raw files
 * (DNG, NEF, CR2, ARW, KDC...), whose first image is a small preview or the sensor's mosaic, and
 * old-style JPEG compression, which libvips turns into a blank (white) picture with a warning.
 */
export async function refuseUnsupportedTiff(input: string | Buffer): Promise<void> {
  const read = (offset: number, length: number) => readRange(input, offset, length);
  const head = await read(0, 16);
  if (head.length < 8) return;
  const little = head[0] === 0x49;
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const raw = () => new AppError(415, 'unsupported_format', 'Camera raw files (DNG, NEF, CR2, ARW, KDC and the like) are not supported; upload a JPEG, HEIC or TIFF the camera or an editor made from it.');
  // Canon's CR2 says so right after the header.
  if (head.length >= 10 && head.toString('latin1', 8, 10) === 'CR') throw raw();

  const ifd = u32(head, 4);
  if (ifd < 8 || ifd > MAX_IFD_OFFSET) return;
  const countBytes = await read(ifd, 2);
  if (countBytes.length < 2) return;
  const count = Math.min(u16(countBytes, 0), 1000);
  const entries = await read(ifd + 2, count * 12);
  for (let i = 0; i + 12 <= entries.length; i += 12) {
    const tag = u16(entries, i);
    const type = u16(entries, i + 2);
    // SHORT values sit in the first two bytes of the value field, LONG in all four.
    const value = type === 3 ? u16(entries, i + 8) : u32(entries, i + 8);
    if (RAW_TAGS.has(tag)) throw raw();
    if (tag === 254 && (value & 1) === 1) throw raw(); // NewSubfileType: IFD0 is a reduced-resolution preview
    if (tag === 262 && RAW_PHOTOMETRIC.has(value)) throw raw();
    if (tag === 259 && RAW_COMPRESSION.has(value)) throw raw();
    if (tag === 259 && value === 6) {
      throw new AppError(415, 'unsupported_format', 'TIFFs with old-style JPEG compression (compression 6) are not supported; save it again with JPEG, LZW or no compression.');
    }
  }
}
