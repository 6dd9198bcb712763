import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { IDEMPOTENCY_PREFIX, originalKey } from '../processing/keys.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';

/** How long a client's retry with the same Idempotency-Key gets the first answer back. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

interface Record {
  id: string;
  createdAt: string;
  /** SHA-256 of the uploaded file, so a retry can be told from another upload under the same key. */
  body?: string;
}

/** What an upload under an Idempotency-Key gives back: the image, and the hash of the file it took. */
export interface IdempotentUpload {
  id: string;
  body: string;
}

/**
 * `Idempotency-Key` on uploads: the first request does the work and its answer (the image id) is
 * kept beside the originals, with the hash of the file; a retry with the same key, caller and file
 * gets that answer instead of a second image, and another file under the same key gets 422.
 * Concurrent retries in this process wait for the first.
 */
export function createIdempotency(input: ObjectStore, now: () => Date = () => new Date()) {
  const inFlight = new Map<string, Promise<IdempotentUpload>>();

  /**
   * `work` gets the record's name, which the image keeps so that deleting it removes the record
   * too; `bodyOf` reads this request's file only to compare it with the first one's.
   */
  return async function once(
    owner: string | undefined,
    key: string,
    work: (record: string) => Promise<IdempotentUpload>,
    bodyOf: () => Promise<string>,
  ): Promise<{ id: string; replayed: boolean }> {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new AppError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters.');
    }
    const name = createHash('sha256').update(`${owner ?? ''}\n${key}`).digest('hex');
    const recordKey = IDEMPOTENCY_PREFIX + name;
    const replay = async (first: { id: string; body?: string }) => {
      if (first.body && (await bodyOf()) !== first.body) {
        throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for another file; use a new key for a new upload.');
      }
      return { id: first.id, replayed: true };
    };
    const pending = inFlight.get(recordKey);
    if (pending) return replay(await pending);

    const stored = await getBuffer(input, recordKey);
    if (stored) {
      const record = JSON.parse(stored.toString('utf8')) as Record;
      if (now().getTime() - Date.parse(record.createdAt) < IDEMPOTENCY_WINDOW_MS) return replay(record);
    }

    const running = work(name);
    inFlight.set(recordKey, running);
    try {
      const { id, body } = await running;
      const record: Record = { id, createdAt: now().toISOString(), body };
      await input.put(recordKey, Buffer.from(JSON.stringify(record)), { contentType: 'application/json' });
      // Written first, checked after: an image deleted meanwhile took its record's name with it, so the record goes too.
      if (!(await input.head(originalKey(id)))) await input.delete(recordKey);
      return { id, replayed: false };
    } finally {
      inFlight.delete(recordKey);
    }
  };
}
