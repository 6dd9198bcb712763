import { setImmediate } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

/** Decoded pixels, interleaved, row after row: what sharp takes as `raw` input. */
export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** What a decoder worker answers: the pixels, or why not (status 415 or 422, a code, our words). */
type Answer = { data: ArrayBuffer; width: number; height: number; channels: 3 | 4 } | { error: { status?: number; code: string; message: string } };

export interface DecodeLimits {
  /** Refused past this many pixels, counted from the decoder's own reading of the file. */
  maxPixels: number;
  /** Past this, the worker is ended mid-decode. */
  timeoutMs: number;
}

/**
 * Runs a decoder that is not sharp's own (WebAssembly, JavaScript) in a worker thread of its own:
 * the event loop never waits on it, the deadline terminates it mid-decode, and whatever memory it
 * grew goes with it. `program` is the worker's source (eval, so it runs the same from the sources
 * and from any bundle): it receives `{ bytes, maxPixels }` once and posts one Answer.
 */
export async function decodeInWorker(program: string, workerData: unknown, source: Buffer, limits: DecodeLimits, label: string): Promise<RawPixels> {
  // A copy the worker owns: the caller's buffer may be shared (see ObjectStore.read).
  const bytes = await ownCopy(source);
  const worker = new Worker(program, { eval: true, workerData });
  try {
    return await new Promise<RawPixels>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError(422, 'timeout', `Decoding the ${label} image took longer than ${limits.timeoutMs} ms.`)), limits.timeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        done();
      };
      const broken = () => new AppError(422, 'decode_failed', `The ${label} data is corrupt, or uses a feature this server cannot decode.`);
      worker.once('message', (answer: Answer) =>
        settle(() => {
          if ('error' in answer) reject(new AppError(answer.error.status ?? 422, answer.error.code, answer.error.message));
          else resolve({ data: Buffer.from(answer.data), width: answer.width, height: answer.height, channels: answer.channels });
        }),
      );
      // An abort inside the decoder (out of its memory, a crash) ends the worker.
      worker.once('error', () => settle(() => reject(broken())));
      worker.once('exit', () => settle(() => reject(broken())));
      worker.postMessage({ bytes, maxPixels: limits.maxPixels }, [bytes]);
    });
  } finally {
    await worker.terminate();
  }
}

/** About a millisecond of copying at a time. */
const COPY_SLICE_BYTES = 1024 * 1024;

/**
 * A copy of `source`, made a slice at a time between turns of the event loop: 10 MB copied into fresh
 * memory in one go took 35 to 47 ms here (each new page faulted in), a stall of every other request.
 */
async function ownCopy(source: Buffer): Promise<ArrayBuffer> {
  const copy = new Uint8Array(source.length);
  for (let offset = 0; offset < source.length; offset += COPY_SLICE_BYTES) {
    if (offset > 0) await setImmediate();
    copy.set(source.subarray(offset, offset + COPY_SLICE_BYTES), offset);
  }
  return copy.buffer;
}
