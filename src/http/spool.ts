import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from '../storage/quick-fs.js';
import { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import type { Context } from 'hono';
import { AppError } from '../errors.js';
import { formatBytes } from '../human-sizes.js';

export interface SpooledFile {
  path: string;
  bytes: number;
  /** SHA-256 of the file, hex, when asked for (`SpoolLimits.hash`). */
  sha256?: string;
  /** The client's name for the file, when multipart gave one. */
  filename?: string;
  /** Removes the temporary file; safe to call twice. */
  discard(): Promise<void>;
}

export const tooLarge = (limit: number) => new AppError(413, 'too_large', `The file is over the ${formatBytes(limit)} limit.`);

/** Passes the file's bytes through, failing with 413 the moment more than `limit` have gone by; hashes them when asked. */
function byteLimit(limit: number, counted: (bytes: number) => void, digest?: Hash): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      counted(total);
      digest?.update(chunk);
      done(total > limit ? tooLarge(limit) : null, chunk);
    },
  });
}

/**
 * Fails with 408 when no byte arrives for `idleMs`, or when, once the upload has run that long,
 * bytes have come in slower than `minBytesPerSecond` on average: a client that stalls, or drips a
 * byte now and then, must not hold an upload slot for as long as it likes.
 */
function pace(idleMs: number, minBytesPerSecond: number, now: () => number = Date.now): Transform {
  let timer: NodeJS.Timeout | undefined;
  const started = now();
  let total = 0;
  const guard: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      const elapsed = now() - started;
      if (elapsed > idleMs && (total * 1000) / elapsed < minBytesPerSecond) {
        done(new AppError(408, 'upload_too_slow', `The upload came in slower than ${minBytesPerSecond} bytes a second; it was dropped.`));
        return;
      }
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(error, done) {
      clearTimeout(timer);
      done(error);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => guard.destroy(new AppError(408, 'upload_timeout', `No data arrived for ${idleMs} ms; the upload was dropped.`)), idleMs);
  };
  arm();
  return guard;
}

/**
 * The spool file's buffer. With the default 16 KB, every socket chunk (about 64 KB) stops the socket
 * until the disk has it; eight uploads at once then took a third longer to take in.
 */
const SPOOL_BUFFER_BYTES = 1024 * 1024;
const spoolFile = (path: string) => createWriteStream(path, { highWaterMark: SPOOL_BUFFER_BYTES });

/** How an upload body must arrive: at most `limit` bytes, never idle for `idleMs`, at least `minBytesPerSecond` on average. */
export interface SpoolLimits {
  limit: number;
  idleMs: number;
  minBytesPerSecond: number;
  /** Hash the file as it is written (costs a few ms a megabyte, so only when asked). */
  hash?: boolean;
}

/**
 * Streams a request body to a temporary file under `dir`, never holding it in memory, and stops
 * when it breaks one of its limits. A raw body is the file; a multipart body's `file` field is.
 * Whatever goes wrong, the temporary file is gone.
 */
export async function spoolBody(c: Context, contentType: string, dir: string, { limit, idleMs, minBytesPerSecond, hash }: SpoolLimits): Promise<SpooledFile> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `upload-${randomUUID()}`);
  const discard = () => rm(path, { force: true });
  const raw = requestBody(c);
  if (!raw) throw new AppError(400, 'empty_body', 'The request has no body.');
  const source = raw.pipe(pace(idleMs, minBytesPerSecond));
  raw.on('error', (error) => source.destroy(error));
  try {
    const digest = hash ? createHash('sha256') : undefined;
    const spooled = /^multipart\/form-data/i.test(contentType)
      ? await spoolMultipart(source, contentType, path, limit, digest)
      : await spoolRaw(source, path, limit, digest);
    if (spooled.bytes === 0) throw new AppError(400, 'empty_body', 'The uploaded file is empty.');
    return { path, ...spooled, ...(digest ? { sha256: digest.digest('hex') } : {}), discard };
  } catch (error) {
    // The socket's own stream stays whole, so the error response can still be written on it;
    // Node discards the rest of the body and the response closes the connection.
    if (raw instanceof IncomingMessage) raw.unpipe();
    else raw.destroy();
    source.destroy();
    await discard();
    throw error;
  }
}

/**
 * The request body as a Node stream. On Node's own server that is the socket's stream itself: going
 * through a web ReadableStream and back costs about 30 ms of CPU per 5 MB upload. Elsewhere (Lambda,
 * tests calling app.request) it is the standard body.
 */
function requestBody(c: Context): Readable | null {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage) return incoming;
  const body = c.req.raw.body;
  return body ? Readable.fromWeb(body as WebReadableStream<Uint8Array>) : null;
}

async function spoolRaw(source: Readable, path: string, limit: number, digest?: Hash): Promise<{ bytes: number }> {
  let bytes = 0;
  await pipeline(source, byteLimit(limit, (n) => (bytes = n), digest), spoolFile(path));
  return { bytes };
}

function spoolMultipart(source: Readable, contentType: string, path: string, limit: number, digest?: Hash): Promise<{ bytes: number; filename?: string }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: limit + 1, fields: 20, parts: 40 } });
    } catch {
      reject(new AppError(400, 'malformed_multipart', 'The multipart body has no boundary.'));
      return;
    }
    let written: Promise<{ bytes: number; filename?: string }> | undefined;
    parser.on('file', (field, stream, info) => {
      if (field !== 'file' || written) {
        stream.resume();
        return;
      }
      let bytes = 0;
      written = pipeline(stream, byteLimit(limit, (n) => (bytes = n), digest), spoolFile(path)).then(() => ({
        bytes,
        ...(info.filename ? { filename: info.filename } : {}),
      }));
      // Settle now if the file fails, so the request body stops being read.
      written.catch(reject);
    });
    parser.on('error', (error: Error) => reject(new AppError(400, 'malformed_multipart', `The multipart body is malformed: ${error.message}`)));
    parser.on('close', () => {
      if (!written) reject(new AppError(400, 'missing_file', 'The multipart body has no "file" field.'));
      else written.then(resolve, reject);
    });
    source.on('error', reject);
    source.pipe(parser);
  });
}

/** Refuses a declared body over the limit (plus any framing `overhead`) before reading a byte of it. */
export function checkDeclaredLength(c: Context, limit: number, overhead = 0, refusal = tooLarge(limit)): void {
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > limit + overhead) throw refusal;
}
