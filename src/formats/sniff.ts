import type { InputFormat } from './formats.js';

/** How many leading bytes `sniffFormat` needs. */
export const SNIFF_BYTES = 512;

const startsWith = (head: Buffer, bytes: number[], offset = 0) =>
  head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b);

const ascii = (head: Buffer, start: number, end: number) => head.subarray(start, end).toString('latin1');

/** Judges a file by its leading bytes alone; never by its name or declared type. */
export function sniffFormat(head: Buffer): InputFormat | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (ascii(head, 4, 8) === 'ftyp') return isoBrand(head);
  // BM, then a header size that one of the BMP versions uses.
  if (ascii(head, 0, 2) === 'BM' && head.length >= 18 && [12, 40, 52, 56, 108, 124].includes(head.readUInt32LE(14))) return 'bmp';
  if (looksLikeSvg(head)) return 'svg';
  return undefined;
}

/** ISO base media files (HEIF family): the major brand, then the compatible ones, say what is inside. */
function isoBrand(head: Buffer): InputFormat | undefined {
  const boxSize = head.readUInt32BE(0);
  const end = Math.min(head.length, Math.max(16, boxSize));
  const brands = [ascii(head, 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(head, at, at + 4));
  if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  if (brands.some((b) => ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(b))) return 'heif';
  return undefined;
}

/** The text of a file's head: UTF-16 by its byte order mark, else UTF-8 (a BOM dropped). */
function headText(head: Buffer): string {
  if (startsWith(head, [0xff, 0xfe])) return head.subarray(2, head.length & ~1).toString('utf16le');
  if (startsWith(head, [0xfe, 0xff])) return Buffer.from(head.subarray(2, head.length & ~1)).swap16().toString('utf16le');
  return head.toString('utf8').replace(/^\uFEFF/, '');
}

/** The XML declaration, comments and a doctype (its internal subset too) before the root element. */
const PROLOG = /^(<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>|\s)+/i;

function looksLikeSvg(head: Buffer): boolean {
  const text = headText(head).trimStart();
  if (!text.startsWith('<')) return false;
  // A doctype naming svg as the root says so even when its subset runs past the head.
  if (/^(<\?xml[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*)*<!DOCTYPE\s+svg[\s[>]/i.test(text)) return true;
  return /^<svg[\s>]/i.test(text.replace(PROLOG, ''));
}
