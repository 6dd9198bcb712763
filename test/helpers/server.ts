import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local-server.js';

export interface TestServer extends LocalServer {
  dataDir: string;
  /** fetch against the server, with the API key when one is set. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Uploads raw image bytes as POST /v1/images does; resolves with the new image's id. */
  upload(bytes: Buffer): Promise<string>;
  /** Polls an image until it is done or failed. */
  settled(id: string): Promise<Record<string, any>>;
}

/** The real local server on a free loopback port, with its data in `dataDir`. */
export async function startTestServer(dataDir: string, env: Record<string, string> = {}, apiKey?: string): Promise<TestServer> {
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', ...env });
  // The page as the test run's global setup built it, so the open routes are the real ones.
  const webRoot = join(import.meta.dirname, '../../dist/web');
  const server = await startLocalServer(config, { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), webRoot });
  const api = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (apiKey && !headers.has('x-api-key')) headers.set('x-api-key', apiKey);
    return fetch(server.url + path, { ...init, headers });
  };
  async function upload(bytes: Buffer) {
    const response = await api('/v1/images', { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'image/jpeg' } });
    const body = (await response.json()) as { id: string };
    if (response.status !== 202) throw new Error(`POST /v1/images answered ${response.status}: ${JSON.stringify(body)}`);
    return body.id;
  }
  async function settled(id: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await api(`/v1/images/${id}`);
      const body = (await response.json()) as Record<string, any>;
      if (!response.ok) throw new Error(`GET /v1/images/${id} answered ${response.status}: ${JSON.stringify(body)}`);
      if (body.status === 'done' || body.status === 'failed') return body;
      if (Date.now() > deadline) throw new Error(`image ${id} still ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return { ...server, dataDir, api, upload, settled };
}

/**
 * Servers for the tests of a file, each closed (and its temporary folder removed) after its test:
 * `const server = await testServer(env, { apiKey, dataDir })`. Give `dataDir` to start another
 * server on the same data, as a restart does; closing one early is fine.
 */
export function useTestServer(): (env?: Record<string, string>, options?: { apiKey?: string; dataDir?: string }) => Promise<TestServer> {
  const open: TestServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (env = {}, { apiKey, dataDir } = {}) => {
    let dir = dataDir;
    if (!dir) dirs.push((dir = await mkdtemp(join(tmpdir(), 'imgproc-server-'))));
    const server = await startTestServer(dir, env, apiKey);
    let closed: Promise<void> | undefined;
    const once = { ...server, close: () => (closed ??= server.close()) };
    open.push(once);
    return once;
  };
}
