import { createHash } from 'node:crypto';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import { INDEX_PREFIX, isValidId } from './keys.js';
import { fromObjectMetadata, MAX_UPLOAD_TIME, uploadTime } from './original-metadata.js';

/**
 * The image index: zero-byte keys in the input bucket whose names sort newest first, so a page of
 * images is one listing with a prefix and a StartAfter, whatever else the bucket holds.
 *
 *   index/all/<when>-<id>               every image (auth off, the retention sweep): local only
 *   index/owner/<owner>/<when>-<id>     the images of one owner id
 *   index/shared/<when>-<id>            images without an owner, which every key sees
 *
 * `<when>` is 9999999999999 minus the upload time in ms, its 13 digits split 5/4/4 into folders. S3
 * sorts them as one name; a folder store opens only the folders a page needs (a folder per 28 hours,
 * then per 10 seconds) rather than one folder holding every image.
 */
export const ALL_IMAGES = `${INDEX_PREFIX}all/`;
export const SHARED_IMAGES = `${INDEX_PREFIX}shared/`;

/** Owner ids are API key ids or our own hex ids; anything else another tool wrote is hashed into a safe name. */
const SAFE_OWNER = /^[A-Za-z0-9_-]{1,128}$/;

export const ownerImages = (owner: string) =>
  `${INDEX_PREFIX}owner/${SAFE_OWNER.test(owner) ? owner : `~${createHash('sha256').update(owner).digest('hex').slice(0, 32)}`}/`;

/** An entry's name below its scope: the same in every scope, so scopes merge by name. */
export function entryName(time: number, id: string): string {
  const when = String(MAX_UPLOAD_TIME - time).padStart(13, '0');
  return `${when.slice(0, 5)}/${when.slice(5, 9)}/${when.slice(9)}-${id}`;
}

export interface IndexEntry {
  key: string;
  /** The key below its scope, which orders entries newest first. */
  name: string;
  /** Upload time, ms. */
  time: number;
  id: string;
}

const ENTRY_NAME = /^(\d{5})\/(\d{4})\/(\d{4})-(.+)$/;

export function parseEntry(scope: string, key: string): IndexEntry | undefined {
  const name = key.slice(scope.length);
  const match = key.startsWith(scope) ? ENTRY_NAME.exec(name) : null;
  if (!match) return undefined;
  return { key, name, time: MAX_UPLOAD_TIME - Number(match[1]! + match[2]! + match[3]!), id: match[4]! };
}

/**
 * The keys that list an original: under its owner or the shared ones, and with `everyImage` under
 * every image too. Only the local runtime reads that scope (a listing with authentication off, the
 * retention sweep). On AWS every caller has an owner and retention is a lifecycle rule, so nothing
 * there reads it: not writing it saves a PUT per image, and a DELETE per removal.
 */
export function indexKeys(id: string, original: Pick<ObjectInfo, 'lastModified' | 'metadata'>, everyImage = true): string[] {
  const owner = fromObjectMetadata(original.metadata).owner;
  const name = entryName(uploadTime(original), id);
  const own = (owner ? ownerImages(owner) : SHARED_IMAGES) + name;
  return everyImage ? [ALL_IMAGES + name, own] : [own];
}

const EMPTY = Buffer.alloc(0);

/**
 * Lists an original; writing what is there already changes nothing, so any step may make sure. A
 * name another tool gave a file that is no image id (a space, say) is processed but never listed:
 * the API could neither show nor delete it, and every listing would walk past it.
 */
export async function indexImage(input: ObjectStore, id: string, original: Pick<ObjectInfo, 'lastModified' | 'metadata'>, everyImage = true): Promise<void> {
  if (!isValidId(id)) return;
  await Promise.all(indexKeys(id, original, everyImage).map((key) => input.put(key, EMPTY)));
}

export async function unindexImage(input: ObjectStore, id: string, original: Pick<ObjectInfo, 'lastModified' | 'metadata'>, everyImage = true): Promise<void> {
  await Promise.all(indexKeys(id, original, everyImage).map((key) => input.delete(key)));
}
