import { randomBytes } from 'node:crypto';
import { FORMATS, type OutputFormat } from '../formats/formats.js';

/**
 * Image ids: UUIDv7 from the API (time-ordered, 74 random bits), or any key suffix another tool
 * wrote under `originals/` that is safe as one path segment. Checked before an id touches a key.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export const isValidId = (id: string) => ID_PATTERN.test(id);

export const ORIGINALS_PREFIX = 'originals/';
/** Idempotency-Key records, in the input bucket beside the originals they answer for. */
export const IDEMPOTENCY_PREFIX = 'idempotency/';

/** An image whose work is under way: written before its processing starts, removed by its final manifest. */
export const PENDING_PREFIX = 'pending/';
/** Beside the originals, where no image id can be: `dedup/<fingerprint>` names the image that has those outputs (dedup.ts). */
export const DEDUP_PREFIX = 'dedup/';
/** The image index: empty keys whose names list images newest first (image-index.ts). */
export const INDEX_PREFIX = 'index/';
/** Written when the index is complete (a store from before the index is indexed once: lifecycle/reindex.ts). */
export const INDEX_READY = `${INDEX_PREFIX}ready`;

export const originalKey = (id: string) => `${ORIGINALS_PREFIX}${id}`;
export const pendingKey = (id: string) => `${PENDING_PREFIX}${id}`;
export const manifestKey = (id: string) => `${id}/manifest.json`;
export const outputPrefix = (id: string) => `${id}/`;
/** An on-demand render, beside the image's variants, so it goes with them. */
export const rendersPrefix = (id: string) => `${id}/renders/`;
export const renderKey = (id: string, name: string) => `${rendersPrefix(id)}${name}`;
export const variantKey = (id: string, variant: string, format: OutputFormat) => `${id}/${variant}.${FORMATS[format].extension}`;
/** The picture on-demand renders are made from (imaging/pipeline/intermediate.ts); no variant name starts with `_`. */
export const intermediateKey = (id: string) => `${id}/_intermediate.jpg`;

/**
 * The id of an input-bucket key: the rest of the key after `originals/`. Any object another tool put
 * there is processed, whatever its name, as long as the name is one path segment (a slash would put
 * its outputs inside another image's folder); only ids that match ID_PATTERN are reachable through the API.
 */
export function idFromOriginalKey(key: string): string | undefined {
  if (!key.startsWith(ORIGINALS_PREFIX)) return undefined;
  const id = key.slice(ORIGINALS_PREFIX.length);
  // eslint-disable-next-line no-control-regex
  const unsafe = id === '' || id === '.' || id === '..' || id.length > 255 || /[/\\\u0000-\u001f\u007f]/.test(id);
  return unsafe ? undefined : id;
}

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, version, 74 random bits. */
export function newId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
