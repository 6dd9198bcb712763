import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../src/http/signed-url.js';
import { ORIGINALS_PREFIX } from '../../src/processing/keys.js';
import { solid } from '../helpers/images.js';
import { startRawRequest, statusOf } from '../helpers/raw-http.js';
import { useTestServer } from '../helpers/server.js';
import { useTempDirs } from '../helpers/temp.js';
import { appOn } from '../helpers/app.js';

const tempDirs = useTempDirs();
const testServer = useTestServer();

async function originals(dataDir: string) {
  try {
    return await readdir(join(dataDir, 'image-processor-input-bucket', ORIGINALS_PREFIX));
  } catch {
    return [];
  }
}
const spooled = async (dataDir: string) => readdir(join(dataDir, '.tmp/uploads')).catch(() => []);
/** Two uploads of `body` with `key` that send 100 bytes and then nothing: they hold two of the key's slots. */
async function dripping(url: string, key: string, body: Buffer) {
  const slow = [0, 1].map(() =>
    startRawRequest(url, `POST /v1/images HTTP/1.1\nHost: x\nx-api-key: ${key}\nContent-Type: image/jpeg\nContent-Length: ${body.length}`, body.subarray(0, 100)),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  return slow;
}

const uploadHead = (length: number) => `POST /v1/images HTTP/1.1\nHost: localhost\nContent-Type: image/jpeg\nContent-Length: ${length}`;

describe('slow, stalled and aborted uploads', () => {
  it('drops a stalled upload with 408 and leaves no image and no stray file', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({ UPLOAD_IDLE_TIMEOUT_MS: '300' }, { dataDir });
    const photo = await solid(200, 200, '#ff0000');
    const { response } = startRawRequest(server.url, uploadHead(photo.length), photo.subarray(0, 100));
    const text = await response;
    expect(statusOf(text)).toBe(408);
    expect(text).toContain('upload_timeout');
    expect(await spooled(dataDir)).toEqual([]);
    expect(await originals(dataDir)).toEqual([]);
  });

  it('drops an upload that drips below MIN_UPLOAD_BYTES_PER_SECOND, though it never goes idle', async () => {
    const server = await testServer({ UPLOAD_IDLE_TIMEOUT_MS: '400', MIN_UPLOAD_BYTES_PER_SECOND: '1000' });
    const body = await solid(200, 200, '#123123');
    const { socket, response } = startRawRequest(server.url, `POST /v1/images HTTP/1.1\nHost: x\nContent-Type: image/jpeg\nContent-Length: ${body.length}`, body.subarray(0, 10));
    // Ten bytes every 150 ms: never idle for 400 ms, but about 65 bytes a second.
    const drip = setInterval(() => socket.write(body.subarray(10, 20)), 150);
    try {
      expect(statusOf(await response)).toBe(408);
      expect(await response).toContain('upload_too_slow');
    } finally {
      clearInterval(drip);
    }
  });

  it('leaves nothing behind when the client vanishes mid-upload', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({}, { dataDir });
    const photo = await solid(300, 300, '#00ff00');
    const { socket } = startRawRequest(server.url, uploadHead(photo.length), photo.subarray(0, 200));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await spooled(dataDir)).toEqual([]);
    expect(await originals(dataDir)).toEqual([]);
    // And the server carries on.
    expect((await server.api('/healthz')).status).toBe(200);
  });
});

describe('overload', () => {
  it('refuses uploads past MAX_CONCURRENT_UPLOADS with 503 and Retry-After', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({ MAX_CONCURRENT_UPLOADS: '2', UPLOAD_IDLE_TIMEOUT_MS: '1500' }, { dataDir });
    const photo = await solid(200, 200, '#0000ff');
    const stalled = [0, 1].map(() => startRawRequest(server.url, uploadHead(photo.length), photo.subarray(0, 50)));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const refused = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg' } });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ code: 'too_many_uploads' });
    // Once the stalled ones time out, uploads are taken again.
    expect((await Promise.all(stalled.map((s) => s.response))).map(statusOf)).toEqual([408, 408]);
    const accepted = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg' } });
    expect(accepted.status).toBe(202);
  });

  it('lets one key hold at most MAX_UPLOADS_PER_KEY upload slots; another key still uploads', async () => {
    // No waiting in line (UPLOAD_SLOT_WAIT_MS=0): past its share, a key is refused at once.
    const server = await testServer({ MAX_UPLOADS_PER_KEY: '2', API_KEYS: 'first-key-0123456,second-key-012345', UPLOAD_IDLE_TIMEOUT_MS: '3000', UPLOAD_SLOT_WAIT_MS: '0' });
    const body = await solid(200, 200, '#884400');
    const slow = await dripping(server.url, 'first-key-0123456', body);
    const post = (key: string) => fetch(server.url + '/v1/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg', 'x-api-key': key } });
    const refused = await post('first-key-0123456');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await post('second-key-012345')).status).toBe(202);
    for (const { socket } of slow) socket.destroy();
  });

  it('counts a direct upload (PUT to an upload URL) against the key that minted the URL, not the address it comes from', async () => {
    const server = await testServer({ MAX_UPLOADS_PER_KEY: '2', API_KEYS: 'first-key-0123456,second-key-012345', UPLOAD_IDLE_TIMEOUT_MS: '3000', UPLOAD_SLOT_WAIT_MS: '0' });
    const body = await solid(200, 200, '#448800');
    const ticket = async (key: string) => {
      const response = await fetch(server.url + '/v1/uploads', { method: 'POST', body: JSON.stringify({ contentType: 'image/jpeg', size: body.length }), headers: { 'content-type': 'application/json', 'x-api-key': key } });
      return ((await response.json()) as { upload: { url: string } }).upload.url;
    };
    // Two of the first key's URLs dripped, with no key on the request: the key's whole share.
    const slow = await Promise.all(
      [0, 1].map(async () => {
        const url = new URL(await ticket('first-key-0123456'));
        return startRawRequest(server.url, `PUT ${url.pathname}${url.search} HTTP/1.1\nHost: x\nContent-Type: image/jpeg\nContent-Length: ${body.length}`, body.subarray(0, 100));
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const post = (key: string) => fetch(server.url + '/v1/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg', 'x-api-key': key } });
    const refused = await post('first-key-0123456');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'too_many_uploads' });
    expect((await post('second-key-012345')).status).toBe(202);
    for (const { socket } of slow) socket.destroy();
  });

  it('takes 40 uploads sent at once by one key: past its share they wait in line instead of a 503', async () => {
    const server = await testServer({ API_KEYS: 'bulk-client-key-0123' }, { apiKey: 'bulk-client-key-0123' });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const response = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(await solid(120 + i, 90, '#336699')), headers: { 'content-type': 'image/jpeg' } });
        return response.status;
      }),
    );
    expect(statuses).toEqual(Array.from({ length: 40 }, () => 202));
  });

  it('keeps the slow-drip protection: waiting uploads get a slot only as drips are dropped, and a full line is refused at once', async () => {
    const server = await testServer({ MAX_UPLOADS_PER_KEY: '2', MAX_WAITING_UPLOADS_PER_KEY: '1', API_KEYS: 'first-key-0123456', UPLOAD_IDLE_TIMEOUT_MS: '1500' });
    const body = await solid(200, 200, '#884400');
    const slow = await dripping(server.url, 'first-key-0123456', body);
    const post = () => fetch(server.url + '/v1/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg', 'x-api-key': 'first-key-0123456' } });
    const waiting = post();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The line (one place) is taken: the next is refused without waiting.
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'too_many_uploads' });
    // The drips are dropped (408) at UPLOAD_IDLE_TIMEOUT_MS; the waiting upload then gets a slot.
    expect((await Promise.all(slow.map((s) => s.response))).map(statusOf)).toEqual([408, 408]);
    expect((await waiting).status).toBe(202);
  });

  it('counts reprocesses against MAX_QUEUE_DEPTH and against the key’s share until they are done', async () => {
    const dataDir = await tempDirs();
    let depth = 0;
    const finish: Array<(ran: boolean) => void> = [];
    const env = { MAX_QUEUE_DEPTH: '5', MAX_UPLOADS_PER_KEY: '2', API_KEYS: 'first-key-0123456,second-key-012345', OWNER_ID_SECRET: 'an-owner-id-secret-of-32-characters' };
    const app = appOn(dataDir, env, {
      queueDepth: () => depth,
      enqueue: () => undefined,
      // Processing that ends only when the test says so.
      whenProcessed: () => new Promise<boolean>((resolve) => finish.push(resolve)),
    });
    const upload = async (key: string) => {
      const response = await app.request('/v1/images', { method: 'POST', body: new Uint8Array(await solid(50, 50, '#222222')), headers: { 'content-type': 'image/jpeg', 'x-api-key': key } });
      return ((await response.json()) as { id: string }).id;
    };
    const reprocess = (id: string, key: string) => app.request(`/v1/images/${id}/reprocess`, { method: 'POST', headers: { 'x-api-key': key } });
    const mine = await upload('first-key-0123456');
    const theirs = await upload('second-key-012345');
    expect((await reprocess(mine, 'first-key-0123456')).status).toBe(202);
    expect((await reprocess(mine, 'first-key-0123456')).status).toBe(202);
    const share = await reprocess(mine, 'first-key-0123456');
    expect(share.status).toBe(503);
    expect(share.headers.get('retry-after')).toBe('2');
    expect((await reprocess(theirs, 'second-key-012345')).status).toBe(202);
    // One of the first key's is done: it may ask again.
    finish.shift()!(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await reprocess(mine, 'first-key-0123456')).status).toBe(202);
    // A full queue refuses every key.
    depth = 5;
    const full = await reprocess(theirs, 'second-key-012345');
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ code: 'queue_full' });
  });

  it('refuses uploads with 503 while MAX_QUEUE_DEPTH images wait', async () => {
    const dataDir = await tempDirs();
    let depth = 5;
    const app = appOn(dataDir, { MAX_QUEUE_DEPTH: '5' }, { queueDepth: () => depth });
    const body = new Uint8Array(await solid(100, 100, '#888888'));
    const full = await app.request('/v1/images', { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('10');
    expect(await full.json()).toMatchObject({ code: 'queue_full' });
    depth = 4;
    expect((await app.request('/v1/images', { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } })).status).toBe(202);
  });

  it('counts uploads still streaming in toward MAX_QUEUE_DEPTH', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({ MAX_QUEUE_DEPTH: '3', UPLOAD_IDLE_TIMEOUT_MS: '3000' }, { dataDir });
    const body = await solid(200, 200, '#446688');
    // Three bodies that have begun and not finished: each will be an image in the queue.
    const slow = [0, 1, 2].map(() =>
      startRawRequest(server.url, `POST /v1/images HTTP/1.1\nHost: x\nContent-Type: image/jpeg\nContent-Length: ${body.length}`, body.subarray(0, 100)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg' } });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'queue_full' });
    for (const { socket } of slow) socket.destroy();
  });

  it('caps JSON bodies at 64 KB, declared or streamed, with 413', async () => {
    const server = await testServer();
    const big = JSON.stringify({ contentType: 'image/jpeg', size: 10, filename: 'x'.repeat(100 * 1024) });
    const declared = await server.api('/v1/uploads', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: 'too_large' });
    // No length given: counted as it arrives.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 300; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
        controller.close();
      },
    });
    const streamed = await server.api('/v1/uploads', { method: 'POST', body: chunks, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    const fine = await server.api('/v1/uploads', { method: 'POST', body: JSON.stringify({ contentType: 'image/jpeg', size: 10 }), headers: { 'content-type': 'application/json' } });
    expect(fine.status).toBe(201);
  });

  it('limits each key to RATE_LIMIT_PER_MINUTE requests with 429 and Retry-After', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({ RATE_LIMIT_PER_MINUTE: '3', API_KEYS: 'one,two' }, { apiKey: 'one', dataDir });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await server.api('/v1/images')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await server.api('/v1/images');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another key has its own budget; health is never limited.
    expect((await fetch(server.url + '/v1/images', { headers: { 'x-api-key': 'two' } })).status).toBe(200);
    expect((await server.api('/healthz')).status).toBe(200);
  });

  it('limits requests without a key by client address, and charges wrong keys to their address', async () => {
    const secret = 'a-signing-secret-of-some-length-0123456789';
    const server = await testServer({ RATE_LIMIT_PER_MINUTE: '3', API_KEYS: 'the-right-key-0123', URL_SIGNING_SECRET: secret }, { apiKey: 'the-right-key-0123' });
    const id = await server.upload(await solid(300, 200, '#225588'));
    // The link the server would hand out for the original, signed here to spend none of the key's budget.
    const link = new URL(createUrlSigner(secret).sign('GET', `/v1/images/${id}/original`, {}, Math.floor(Date.now() / 1000) + 600), server.url);
    const forged = `${link.pathname}?${link.searchParams.toString().replace(/sig=[^&]+/, 'sig=forged')}`;
    // One client (127.0.0.2) sends bogus links until it is limited...
    const attacker = [];
    for (let i = 0; i < 4; i++) attacker.push(await statusFrom(server.url, '127.0.0.2', forged));
    expect(attacker).toEqual([403, 403, 403, 429]);
    // ...while another's valid link still works.
    expect(await statusFrom(server.url, '127.0.0.1', link.pathname + link.search)).toBe(200);
    // Guessing keys is limited the same way, per address.
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await statusFrom(server.url, '127.0.0.3', '/v1/images', { 'x-api-key': `guess-${i}` }));
    expect(guesses).toEqual([401, 401, 401, 429]);
  });
});

describe('retries and replays', () => {
  it('answers a retried upload with the same Idempotency-Key with the first image', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({}, { dataDir });
    const body = new Uint8Array(await solid(300, 200, '#abcdef'));
    const send = (key: string) => server.api('/v1/images', { method: 'POST', body, headers: { 'content-type': 'image/jpeg', 'idempotency-key': key } });
    const first = await send('retry-me');
    const again = await send('retry-me');
    const other = await send('something-else');
    const [a, b, c] = await Promise.all([first, again, other].map(async (r) => ((await r.json()) as { id: string }).id));
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect((await originals(dataDir)).sort()).toEqual([a, c].sort());

    // The same key for another file is a mistake, not a retry.
    const reused = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(await solid(300, 200, '#fedcba')), headers: { 'content-type': 'image/jpeg', 'idempotency-key': 'retry-me' } });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect((await originals(dataDir)).sort()).toEqual([a, c].sort());
  });

  it('runs an image again on POST /v1/images/{id}/reprocess', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({}, { dataDir });
    const id = await server.upload(await solid(500, 400, '#224488'));
    const first = await server.settled(id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await server.api(`/v1/images/${id}/reprocess`, { method: 'POST' });
    expect(again.status).toBe(202);
    const second = await server.settled(id);
    expect(second.status).toBe('done');
    expect(second.completedAt).not.toBe(first.completedAt);
    expect((await server.api('/v1/images/nope/reprocess', { method: 'POST' })).status).toBe(404);
  });
});

/** A GET from a chosen loopback address (all of 127/8 is this machine), as another client would send it. */
function statusFrom(base: string, localAddress: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL(path, base), { localAddress, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}
