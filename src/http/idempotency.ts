import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';

/** How long a client's retry with the same Idempotency-Key gets the first answer back. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_PREFIX = 'idempotency/';

interface Record {
  id: string;
  createdAt: string;
}

/**
 * `Idempotency-Key` on uploads: the first request does the work and its answer (the image id) is
 * kept beside the originals; a retry with the same key and caller gets that answer instead of a
 * second image. Concurrent retries in this process wait for the first.
 */
export function createIdempotency(input: ObjectStore, now: () => Date = () => new Date()) {
  const inFlight = new Map<string, Promise<string>>();

  /** `work` gets the record's name, which the image keeps so that deleting it removes the record too. */
  return async function once(owner: string | undefined, key: string, work: (record: string) => Promise<string>): Promise<{ id: string; replayed: boolean }> {
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new AppError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters.');
    }
    const name = createHash('sha256').update(`${owner ?? ''}\n${key}`).digest('hex');
    const recordKey = IDEMPOTENCY_PREFIX + name;
    const pending = inFlight.get(recordKey);
    if (pending) return { id: await pending, replayed: true };

    const stored = await getBuffer(input, recordKey);
    if (stored) {
      const record = JSON.parse(stored.toString('utf8')) as Record;
      if (now().getTime() - Date.parse(record.createdAt) < IDEMPOTENCY_WINDOW_MS) return { id: record.id, replayed: true };
    }

    const running = work(name);
    inFlight.set(recordKey, running);
    try {
      const id = await running;
      const record: Record = { id, createdAt: now().toISOString() };
      await input.put(recordKey, Buffer.from(JSON.stringify(record)), { contentType: 'application/json' });
      return { id, replayed: false };
    } finally {
      inFlight.delete(recordKey);
    }
  };
}
