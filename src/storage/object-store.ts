import type { Readable } from 'node:stream';
import { withRetry } from './retry.js';

/** What a listing says of an object: enough to sort and page without reading it. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectInfo extends ListedObject {
  etag: string;
  contentType?: string;
  /** User metadata, ASCII values (as S3 allows). */
  metadata: Record<string, string>;
}

export interface StoredObject extends ObjectInfo {
  body: Readable;
}

export interface ListOptions {
  /** Only keys after this one (a cursor). */
  startAfter?: string;
  /** At most this many; a store reads no more than the page needs. */
  limit?: number;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * One bucket. Adapters: `fs` (a folder) and `s3`, both held to test/storage/contract.test.ts.
 * Writes are all-or-nothing: a reader sees the old object, the new one, or none, never a partial file.
 */
export interface ObjectStore {
  readonly name: string;
  put(key: string, body: Buffer | Readable, options?: PutOptions): Promise<ObjectInfo>;
  /**
   * Stores a local file as `key`, moving it when the store can (the fs store on the same disk); the
   * file is gone after. `ready`: writes that must be durable before the object takes its name (an
   * image's index entries); they run beside the file's own sync.
   */
  putFile?(key: string, path: string, options?: PutOptions, ready?: Promise<unknown>): Promise<ObjectInfo>;
  get(key: string): Promise<StoredObject | undefined>;
  /**
   * The whole object in one buffer, where the store can do that better than through a stream (a
   * local file). The buffer may be shared with other readers: read it, never write to it.
   */
  read?(key: string): Promise<Buffer | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order; with options, a page of them. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject>;
  /**
   * What lies directly under `prefix` (`''` or ending in `/`), in no set order, reading no object: a
   * key's last segment, or a sub-prefix's segment with a trailing `/`. Cheap enough for every image
   * at start-up (a folder's names; S3 lists 1,000 per request).
   */
  names(prefix: string): AsyncIterable<string>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** A store that announces new objects itself (the local trigger; S3 uses event notifications instead). */
export interface ObjectCreatedSource {
  onObjectCreated(listener: (key: string) => void): () => void;
}

/** Response headers a signed GET link makes the store answer with. */
export interface PresignedGet {
  contentType?: string;
  contentDisposition?: string;
  cacheControl?: string;
}

/**
 * A capability of stores that sync to a disk (the fs store): what can be made again (variants, a
 * manifest that is not final, a dedup record) is written without a sync of its own, and what must
 * be durable before something names it is synced once, together (see docs/ARCHITECTURE.md).
 */
export interface DeferredSync {
  /** As `put`, whole for every reader at once, but not synced: a power cut may lose it. */
  putUnsynced(key: string, body: Buffer, options?: PutOptions): Promise<ObjectInfo>;
  /** Makes the bytes of these objects, and their names in their folders, durable: each file, then each folder once. */
  sync(keys: string[]): Promise<void>;
  /**
   * As `put`, its bytes synced by the handle that wrote them (no second open), but not its name:
   * `syncNames` makes the names of several objects durable at once, a folder at a time.
   */
  putNamedLater(key: string, body: Buffer, options?: PutOptions): Promise<ObjectInfo>;
  /** Makes the names of these objects durable in their folders: each folder once. */
  syncNames(keys: string[]): Promise<void>;
}

export const defersSync = <T extends ObjectStore>(store: T & Partial<DeferredSync>): store is T & DeferredSync => typeof store.sync === 'function';

/** Writes what can be made again: unsynced where the store defers syncs, else as any put. */
export const putDerived = (store: ObjectStore, key: string, body: Buffer, options?: PutOptions): Promise<ObjectInfo> =>
  defersSync(store) ? store.putUnsynced(key, body, options) : store.put(key, body, options);

/**
 * Writes objects that must all be durable before something names them (an image's variants), then
 * makes them so together: on a store that defers syncs, each file synced as it is written and each
 * folder once after; elsewhere, as puts.
 */
export async function putAllDurable(store: ObjectStore, objects: Array<{ key: string; body: Buffer; options?: PutOptions }>): Promise<ObjectInfo[]> {
  if (!defersSync(store)) return Promise.all(objects.map(({ key, body, options }) => store.put(key, body, options)));
  const written = await Promise.all(objects.map(({ key, body, options }) => store.putNamedLater(key, body, options)));
  await store.syncNames(written.map((info) => info.key));
  return written;
}

/**
 * A capability of stores that keep each object as a file on this machine (the fs store): its path,
 * for a process of our own to read itself. Sending a render process a 4 MB original over IPC cost
 * 30 to 40 ms; reading the file there costs a few.
 */
export interface LocalFiles {
  localPath(key: string): string;
}

export const keepsLocalFiles = <T extends ObjectStore>(store: T & Partial<LocalFiles>): store is T & LocalFiles => typeof store.localPath === 'function';

/** A capability of stores that sign links of their own (S3's presigned URLs): clients GET and PUT objects without credentials. */
export interface SignedLinks {
  /** A URL that GETs `key` without credentials until `expiresIn` seconds pass, with these response headers. */
  presignGet(key: string, expiresIn: number, headers?: PresignedGet): Promise<string>;
  /**
   * A URL to PUT `key` directly, for a body of exactly `size` bytes (the length is signed, so the
   * store refuses any other); the client must send exactly the returned headers.
   */
  presignPut(key: string, expiresIn: number, options: PutOptions & { size: number }): Promise<{ url: string; headers: Record<string, string> }>;
}

/** A capability of stores whose object-created events reach a processor elsewhere (S3 to Lambda): announce an object again. */
export interface Retrigger {
  /** Announces `key` again, its bytes unchanged (S3: a copy onto itself); with `metadata`, that replaces the object's own. */
  retrigger(key: string, metadata?: Record<string, string>): Promise<void>;
}

export const canRetrigger = <T extends ObjectStore>(store: T & Partial<Retrigger>): store is T & Retrigger => typeof store.retrigger === 'function';
export const signsLinks = <T extends ObjectStore>(store: T & Partial<SignedLinks>): store is T & SignedLinks =>
  typeof store.presignGet === 'function' && typeof store.presignPut === 'function';

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Reads a whole object; a read cut off half-way is tried again, since a read changes nothing. The
 * buffer may be shared (see `read`): callers only read it.
 */
export function getBuffer(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  return withRetry(async () => {
    if (store.read) return store.read(key);
    const object = await store.get(key);
    return object ? readAll(object.body) : undefined;
  });
}

/**
 * An object's description and, when it is at most `maxBytes`, its bytes (undefined when it went
 * between the two reads of a store that reads files whole). On S3 that is one GET, where a HEAD and
 * then a GET were two requests; a larger object's body is left unread.
 */
export async function readWithin(store: ObjectStore, key: string, maxBytes: number): Promise<{ info: ObjectInfo; bytes?: Buffer } | undefined> {
  if (store.read) {
    const info = await store.head(key);
    if (!info || info.size > maxBytes) return info && { info };
    const bytes = await getBuffer(store, key);
    return bytes ? { info, bytes } : { info };
  }
  return withRetry(async () => {
    const object = await store.get(key);
    if (!object) return undefined;
    const { body, ...info } = object;
    if (info.size > maxBytes) {
      body.destroy();
      return { info };
    }
    return { info, bytes: await readAll(body) };
  });
}
