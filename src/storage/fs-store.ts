import { createHash, randomUUID } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import { FORMATS } from '../formats/formats.js';
import { createFileCache } from './file-cache.js';
import { createFile, mkdir, rename, rm, rmdir, stat, touch } from './quick-fs.js';
import { syncPath } from './sync-path.js';
import type { DeferredSync, ListedObject, LocalFiles, ListOptions, ObjectCreatedSource, ObjectInfo, ObjectStore, PutOptions, StoredObject } from './object-store.js';

/** What S3 would keep beside an object; stored in a sidecar file under `.meta/`. */
interface Sidecar {
  etag: string;
  contentType?: string;
  metadata: Record<string, string>;
  /** The object's size and mtime when written: a mismatch means another tool replaced the file. */
  size: number;
  mtimeMs: number;
}

/** How many names `names` hands out before it lets the event loop run. */
const NAMES_BETWEEN_YIELDS = 1000;

/** S3's ETag of an empty object: the MD5 of nothing. */
const EMPTY_ETAG = '"d41d8cd98f00b204e9800998ecf8427e"';

/** The ETag of an object with no metadata file: its size and modification time, which any rewrite changes. */
const derivedEtag = (size: number, mtimeMs: number) => (size === 0 ? EMPTY_ETAG : `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`);

/** Content types a key's extension implies (a variant's, a manifest's). */
const TYPE_OF_EXTENSION = new Map<string, string>([...Object.values(FORMATS).map((format) => [format.extension, format.mime] as const), ['json', 'application/json']]);
const typeOfKey = (key: string): string | undefined => TYPE_OF_EXTENSION.get(key.slice(key.lastIndexOf('.') + 1));

/** Scratch space for writes in progress; removed whole at start-up (see `cleanTemporaryFiles`). */
export const tempDir = (dataDir: string) => join(resolve(dataDir), '.tmp');

/**
 * A bucket as a folder: `<dataDir>/<bucket>/<key>`, with metadata in `<dataDir>/.meta/<bucket>/<key>.json`.
 * Every write goes to a temporary file, is fsync'd (derived objects: later, together; see
 * DeferredSync), then renamed into place, so readers never see a partial object and a crash leaves
 * at worst a stray temporary file.
 */
export function createFsStore(dataDir: string, bucket: string): ObjectStore & ObjectCreatedSource & DeferredSync & LocalFiles {
  const root = resolve(dataDir, bucket);
  const metaRoot = resolve(dataDir, '.meta', bucket);
  const tmp = tempDir(dataDir);
  const listeners = new Set<(key: string) => void>();
  const files = createFileCache();

  const objectPath = (key: string) => safeJoin(root, key);
  const sidecarPath = (key: string) => `${safeJoin(metaRoot, key)}.json`;

  async function readSidecar(key: string): Promise<Sidecar | undefined> {
    try {
      const bytes = await files.read(sidecarPath(key));
      return bytes ? (JSON.parse(bytes.toString('utf8')) as Sidecar) : undefined;
    } catch {
      return undefined;
    }
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    const stats = await statFile(objectPath(key));
    if (!stats) return undefined;
    const sidecar = await readSidecar(key);
    const current = sidecar && sidecar.size === stats.size && sidecar.mtimeMs === stats.mtimeMs ? sidecar : undefined;
    const contentType = current ? current.contentType : typeOfKey(key);
    return {
      key,
      size: stats.size,
      lastModified: stats.mtime,
      etag: current?.etag ?? derivedEtag(stats.size, stats.mtimeMs),
      ...(contentType ? { contentType } : {}),
      metadata: current?.metadata ?? {},
    };
  }

  /**
   * Makes a finished temporary file the object: metadata, rename into place, fsync the folder. Unsynced
   * (`synced` false: derived objects, see DeferredSync), neither the metadata nor the folder is synced;
   * a lost metadata file only loses the object's ETag and type, which a reader then derives.
   * `durable`: what must be durable first and is still under way (the temporary file's own sync, an
   * upload's index entries); it runs beside the metadata file's write.
   */
  async function commit(key: string, temporary: string, etag: string | (() => string), options: PutOptions, synced = true, durable?: Promise<void>): Promise<ObjectInfo> {
    const target = objectPath(key);
    const { size, mtimeMs } = await stat(temporary);
    // A derived object with nothing its file cannot tell (no user metadata, the type its name implies)
    // keeps no metadata file: a variant, a manifest, a render. Its ETag is then derived (derivedEtag).
    const plain = !synced && Object.keys(options.metadata ?? {}).length === 0 && (options.contentType === undefined || options.contentType === typeOfKey(key));
    const sidecar: Sidecar = {
      etag: plain ? derivedEtag(size, mtimeMs) : typeof etag === 'string' ? etag : etag(),
      ...(options.contentType ? { contentType: options.contentType } : {}),
      metadata: options.metadata ?? {},
      size,
      mtimeMs,
    };
    try {
      // Both settled before anything is undone: a metadata file still being written when the other
      // failed would be renamed into place after its removal.
      const written = plain ? undefined : writeFileAtomic(sidecarPath(key), JSON.stringify(sidecar), tmp, synced);
      const failed = (await Promise.allSettled([written, durable])).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      await inFolder(target, () => rename(temporary, target));
    } catch (error) {
      // The object never appeared: neither may its metadata.
      await rm(sidecarPath(key), { force: true });
      files.forget(sidecarPath(key));
      throw conflictOr(error, key);
    }
    if (synced) await fsyncIfPresent(dirname(target));
    for (const listener of listeners) listener(key);
    return { key, size, lastModified: new Date(mtimeMs), etag: sidecar.etag, ...(sidecar.contentType ? { contentType: sidecar.contentType } : {}), metadata: sidecar.metadata };
  }

  /**
   * A marker (an index entry, a pending mark): no bytes that could be seen half-written and nothing
   * for a sidecar to keep, so it is created in place, a third of a full write's cost.
   */
  async function putEmpty(key: string): Promise<ObjectInfo> {
    const target = objectPath(key);
    try {
      await inFolder(target, () => touch(target));
    } catch (error) {
      throw conflictOr(error, key);
    }
    await fsyncIfPresent(dirname(target));
    files.forget(target);
    for (const listener of listeners) listener(key);
    // Now, not the file's own time (a stat more, for microseconds): nothing reads a marker's time from its write.
    return { key, size: 0, lastModified: new Date(), etag: EMPTY_ETAG, metadata: {} };
  }

  /** A derived object: its metadata and name not synced, its bytes only when `dataSynced`. */
  async function writeDerived(key: string, body: Buffer, options: PutOptions, dataSynced: boolean): Promise<ObjectInfo> {
    objectPath(key);
    const temporary = join(tmp, randomUUID());
    try {
      await inFolder(temporary, () => createFile(temporary, body, dataSynced));
      // Hashed only if kept: an object with no metadata file has its ETag derived instead.
      return await commit(key, temporary, () => `"${createHash('md5').update(body).digest('hex')}"`, options, false);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async function syncNames(keys: string[]): Promise<void> {
    await Promise.all([...new Set(keys.map((key) => dirname(objectPath(key))))].map(fsyncIfPresent));
  }

  return {
    name: bucket,

    async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<ObjectInfo> {
      objectPath(key);
      if (Buffer.isBuffer(body) && body.length === 0 && !options.contentType && !options.metadata) return putEmpty(key);
      const temporary = join(tmp, randomUUID());
      try {
        const md5 = createHash('md5');
        if (Buffer.isBuffer(body)) {
          // A rendered variant or a manifest: one write and one fsync on the same handle.
          md5.update(body);
          await inFolder(temporary, () => writeSynced(temporary, body));
        } else {
          const measure = new Transform({
            transform(chunk: Buffer, _encoding, done) {
              md5.update(chunk);
              done(null, chunk);
            },
          });
          // Opened before the stream is read: a missing scratch folder is made without losing a byte.
          const handle = await inFolder(temporary, () => open(temporary, 'wx'));
          await pipeline(body, measure, handle.createWriteStream());
          await syncPath(temporary);
        }
        return await commit(key, temporary, `"${md5.digest('hex')}"`, options);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },

    putUnsynced: (key: string, body: Buffer, options: PutOptions = {}) => writeDerived(key, body, options, false),

    async sync(keys: string[]): Promise<void> {
      // An object a concurrent delete removed has nothing left to sync (as a folder it pruned).
      await Promise.all(keys.map((key) => fsyncIfPresent(objectPath(key))));
      await syncNames(keys);
    },

    putNamedLater: (key: string, body: Buffer, options: PutOptions = {}) => writeDerived(key, body, options, true),

    syncNames,

    async putFile(key: string, path: string, options: PutOptions = {}, ready?: Promise<unknown>): Promise<ObjectInfo> {
      objectPath(key);
      // Moved, not copied: an upload spooled under DATA_DIR is on this disk already. Its bytes are
      // synced while its metadata file (and what must come first) is written; all of it is durable
      // before it takes its name.
      return commit(key, path, `"${randomUUID().replace(/-/g, '')}"`, options, true, Promise.all([syncPath(path), ready]).then(() => undefined));
    },

    async get(key: string): Promise<StoredObject | undefined> {
      const info = await head(key);
      if (!info) return undefined;
      try {
        const handle = await open(objectPath(key), 'r');
        return { ...info, body: handle.createReadStream() };
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    head,

    localPath: objectPath,

    read(key: string): Promise<Buffer | undefined> {
      return files.read(objectPath(key));
    },

    async *list(prefix: string, { startAfter, limit = Infinity }: ListOptions = {}): AsyncIterable<ListedObject> {
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = base ? objectPath(base) : root;
      let listed = 0;
      for await (const { key, path } of walkInKeyOrder(start, base, startAfter)) {
        if (listed >= limit) return;
        if (!key.startsWith(prefix)) continue;
        const stats = await statFile(path);
        if (!stats) continue;
        listed++;
        yield { key, size: stats.size, lastModified: stats.mtime };
      }
    },

    async *names(prefix: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(prefix ? objectPath(prefix.slice(0, -1)) : root, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw error;
      }
      for (const [i, entry] of entries.entries()) {
        // A folder of a million names reads no file per name: let other work in now and then.
        if (i % NAMES_BETWEEN_YIELDS === NAMES_BETWEEN_YIELDS - 1) await setImmediate();
        if (entry.isDirectory()) yield `${entry.name}/`;
        else if (entry.isFile()) yield entry.name;
      }
    },

    async delete(key: string): Promise<void> {
      const target = objectPath(key);
      await rm(target, { force: true });
      await rm(sidecarPath(key), { force: true });
      files.forget(target);
      files.forget(sidecarPath(key));
      await removeEmptyParents(dirname(target), root);
      await removeEmptyParents(dirname(sidecarPath(key)), metaRoot);
    },

    onObjectCreated(listener: (key: string) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Maps a key to a path inside `root`, refusing anything that could name a file outside it. */
function safeJoin(root: string, key: string): string {
  const segments = key.split('/');
  const bad =
    key.length === 0 ||
    key.length > 1024 ||
    key.includes('\0') ||
    key.includes('\\') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  const path = resolve(root, key);
  if (bad || !path.startsWith(root + sep)) throw new AppError(400, 'invalid_key', `Invalid object key: ${JSON.stringify(key)}`);
  return path;
}

/**
 * The files under `dir` as keys, in S3's order (a folder sorts as its name and a slash), streamed:
 * a folder whose keys all come before `startAfter` is never opened, and a caller that stops early
 * reads no further.
 */
async function* walkInKeyOrder(dir: string, keyPrefix: string, startAfter: string | undefined): AsyncGenerator<{ key: string; path: string }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw error;
  }
  const sortName = (entry: (typeof entries)[number]) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
  entries.sort((a, b) => (sortName(a) < sortName(b) ? -1 : sortName(a) > sortName(b) ? 1 : 0));
  for (const entry of entries) {
    const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const below = `${key}/`;
      // Every key below starts with `below`: all of them come before a startAfter that is past it and not inside it.
      if (startAfter !== undefined && startAfter > below && !startAfter.startsWith(below)) continue;
      yield* walkInKeyOrder(path, key, startAfter);
    } else if (entry.isFile() && (startAfter === undefined || key > startAfter)) {
      yield { key, path };
    }
  }
}

async function statFile(path: string) {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

const writeSynced = (path: string, data: Buffer | string) => createFile(path, data, true);

async function writeFileAtomic(path: string, text: string, tmp: string, synced = true): Promise<void> {
  const temporary = join(tmp, randomUUID());
  try {
    await inFolder(temporary, () => createFile(temporary, text, synced));
    await inFolder(path, () => rename(temporary, path));
  } catch (error) {
    // Only a write that failed leaves its temporary file (a rename moves it).
    await rm(temporary, { force: true });
    throw error;
  }
  if (synced) await fsyncIfPresent(dirname(path));
}


/** How often a write retries when a delete pruned its (empty) folder between the folder's creation and the write. */
const PRUNED_FOLDER_RETRIES = 5;

/**
 * Runs `write` (which creates `path`), making its folder only when the write finds none: most writes
 * go to a folder that exists (an image's outputs, the index), and a recursive mkdir costs two system
 * calls even then. A delete that empties a folder removes it (removeEmptyParents); one that does so
 * between the mkdir and the write makes the write fail with ENOENT again, so it is retried.
 */
async function inFolder<T>(path: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isMissing(error) || attempt === PRUNED_FOLDER_RETRIES) throw error;
    }
    // A recursive mkdir racing a delete that prunes the same folders can fail in several ways (a
    // parent gone before the next level, one gone between its EEXIST and its stat): the write that
    // follows tells what really stands (a file in the way fails it with ENOTDIR).
    await mkdir(dirname(path), { recursive: true }).catch(() => undefined);
  }
}

/** Syncs a folder's entries (or a file's bytes); one a delete has removed since has nothing left to sync. */
async function fsyncIfPresent(path: string): Promise<void> {
  await syncPath(path).catch((error: unknown) => {
    if (!isMissing(error)) throw error;
  });
}

/** S3 holds `a` and `a/b` side by side; a folder cannot. Say so instead of failing obscurely. */
function conflictOr(error: unknown, key: string): unknown {
  if (['EEXIST', 'ENOTDIR', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) {
    return new AppError(409, 'key_conflict', `The key ${JSON.stringify(key)} clashes with another object's path.`);
  }
  return error;
}

/** Keeps the folders tidy after deletes: S3 has no empty "folders", so neither do we. */
async function removeEmptyParents(dir: string, root: string): Promise<void> {
  while (dir.startsWith(root + sep)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT';
