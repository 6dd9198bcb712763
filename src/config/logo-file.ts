import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sniffFormat } from '../formats/sniff.js';

/** A logo to stamp (WATERMARK_IMAGE): its bytes, read once, and their hash (part of every fingerprint). */
export interface Logo {
  bytes: Buffer;
  digest: string;
}

const LOGO_FORMATS = new Set(['png', 'webp', 'svg']);
const MAX_LOGO_BYTES = 4 * 1024 * 1024;

/**
 * Reads WATERMARK_IMAGE as the configuration is read (so a synth refuses a wrong file too); throws
 * a message (without the library's words) when it cannot be a logo. Decoding it is imaging's
 * (checkLogo in imaging/logo.ts, at start-up).
 */
export function readLogo(path: string): Logo {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new Error('cannot be read');
  }
  if (bytes.length > MAX_LOGO_BYTES) throw new Error(`is over ${MAX_LOGO_BYTES} bytes`);
  if (!LOGO_FORMATS.has(sniffFormat(bytes.subarray(0, 512)) ?? '')) throw new Error('expected a PNG, WebP or SVG file');
  return { bytes, digest: createHash('sha256').update(bytes).digest('hex') };
}
