import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startRawRequest, statusOf } from '../helpers/raw-http.js';
import { useTestServer } from '../helpers/server.js';

const testServer = useTestServer();
const KEY = 'refusal-key-0123456789';

/**
 * A client on a real network: the head, then `megabytes` of body, 1 MB every 50 ms, reading
 * whatever comes back meanwhile. Resolves with the answer's status and the socket's error, if any.
 */
function pacedUpload(url: string, head: string, megabytes: number): Promise<{ status: number; error?: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  let error: string | undefined;
  socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  // A server that closes while the body still goes out leaves a fetch client with EPIPE or a reset.
  let sent = 0;
  socket.on('end', () => {
    if (sent <= megabytes) error ??= 'closed before the body was sent';
  });
  return new Promise((resolve) => {
    socket.write(`${head.replace(/\n/g, '\r\n')}\r\nContent-Length: ${megabytes * 1024 * 1024}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const next = () => {
      if (error || sent++ === megabytes) {
        // Everything is sent: what came back is the answer (a server that keeps the connection open is done too).
        setTimeout(() => {
          socket.destroy();
          resolve({ status: statusOf(answer), ...(error ? { error } : {}) });
        }, 100);
        return;
      }
      socket.write(chunk, () => setTimeout(next, 50));
    };
    next();
  });
}

/** Sends `body` as fetch does (the whole of it, as fast as the socket takes it); a network error is returned, not thrown. */
async function send(url: string, init: RequestInit): Promise<{ status: number; retryAfter: string | null; code: string } | { networkError: string }> {
  try {
    const response = await fetch(url, init);
    const body = (await response.json()) as { code: string };
    return { status: response.status, retryAfter: response.headers.get('retry-after'), code: body.code };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { networkError: cause?.code ?? String(error) };
  }
}

describe('a refusal sent before the body has arrived reaches the client', () => {
  it('15 uploads of 30 MB, sent at the pace of a network and refused with 503 at once are each read as a 503, never a network error', async () => {
    // Refused at once, not queued (UPLOAD_SLOT_WAIT_MS=0), while the body is still being sent.
    const server = await testServer({ API_KEYS: KEY, MAX_UPLOADS_PER_KEY: '1', UPLOAD_IDLE_TIMEOUT_MS: '20000', UPLOAD_SLOT_WAIT_MS: '0' });
    // The key's one slot, held by a slow upload.
    const held = startRawRequest(server.url, `POST /v1/images HTTP/1.1\nHost: x\nx-api-key: ${KEY}\nContent-Type: image/jpeg\nContent-Length: 1000000`, Buffer.alloc(100));
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          Array.from({ length: 5 }, () => pacedUpload(server.url, `POST /v1/images HTTP/1.1\nHost: x\nx-api-key: ${KEY}\nContent-Type: image/jpeg`, 30)),
        );
        expect(answers).toEqual(Array.from({ length: 5 }, () => ({ status: 503 })));
      }
    } finally {
      held.socket.destroy();
    }
  });

  it('a large body without a key, or over MAX_POST_BYTES, is answered 401 or 413 and read by the client', async () => {
    const server = await testServer({ API_KEYS: KEY, MAX_POST_BYTES: '1000000' });
    const body = new Uint8Array(Buffer.alloc(20 * 1024 * 1024, 1));
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => send(`${server.url}/v1/images`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } })),
      ...Array.from({ length: 4 }, () => send(`${server.url}/v1/images`, { method: 'POST', body, headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' } })),
    ]);
    expect(answers.slice(0, 4).map((a) => ('status' in a ? a.status : a.networkError))).toEqual([401, 401, 401, 401]);
    expect(answers.slice(4).map((a) => ('status' in a ? a.status : a.networkError))).toEqual([413, 413, 413, 413]);
    // The connection was read to the end, so the server still answers on new ones.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
