import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { noisy, solid } from '../helpers/images.js';
import { useTestServer, type TestServer } from '../helpers/server.js';

const KEY = 'renders-test-key-0123';
const testServer = useTestServer();

async function renderLink(server: TestServer, id: string, ask: Record<string, unknown>) {
  const response = await server.api(`/v1/images/${id}/renders`, { method: 'POST', body: JSON.stringify(ask), headers: { 'content-type': 'application/json' } });
  return { status: response.status, body: (await response.json()) as { url: string; code?: string; detail?: string } };
}

describe('on-demand sizes', () => {
  it('mints a signed link that renders on first request, without the key, and reads the stored render after', async () => {
    const server = await testServer({ API_KEYS: KEY }, { apiKey: KEY });
    const id = await server.upload(await noisy(1200, 800));
    const { status, body } = await renderLink(server, id, { width: 320 });
    expect(status).toBe(201);

    const first = await fetch(body.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 213]);

    // Stored beside the variants: replace it, and the next request answers the stored bytes.
    const key = `${id}/renders/${new URL(body.url).pathname.split('/').pop()}`;
    expect(await server.output.head(key)).toMatchObject({ size: meta.size });
    await server.output.put(key, await solid(10, 10, '#ff0000'), { contentType: 'image/jpeg' });
    const second = await sharp(Buffer.from(await (await fetch(body.url)).arrayBuffer())).metadata();
    expect([second.width, second.height]).toEqual([10, 10]);
  });

  it('mints a srcset’s links with the image: GET /v1/images/{id}?renderWidths=', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(1200, 800));
    const image = (await (await server.api(`/v1/images/${id}?renderWidths=320,640`)).json()) as { renders: { width: number; url: string }[] };
    expect(image.renders.map((render) => render.width)).toEqual([320, 640]);
    for (const render of image.renders) {
      const meta = await sharp(Buffer.from(await (await fetch(render.url)).arrayBuffer())).metadata();
      expect(meta.width).toBe(render.width);
    }
    expect((await server.api(`/v1/images/${id}`)).ok).toBe(true);
    expect((await server.api(`/v1/images/${id}?renderWidths=0`)).status).toBe(400);
  });

  it('renders the fit and format asked for', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(1200, 800));
    const { body } = await renderLink(server, id, { width: 300, height: 300, fit: 'cover', format: 'webp' });
    const response = await fetch(body.url);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 300, 300]);
  });

  it('answers 403 to a link whose parameters or expiry were changed', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(800, 600));
    const { body } = await renderLink(server, id, { width: 200 });
    const bigger = body.url.replace('/w200-', '/w800-');
    expect((await fetch(bigger)).status).toBe(403);
    const url = new URL(body.url);
    url.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    expect((await fetch(url)).status).toBe(403);
    url.searchParams.delete('sig');
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(body.url)).status).toBe(200);
  });

  it('refuses sizes over ONDEMAND_MAX_PIXELS with 422', async () => {
    const server = await testServer({ ONDEMAND_MAX_PIXELS: '200000' });
    const id = await server.upload(await noisy(1200, 800));
    expect(await renderLink(server, id, { width: 480, height: 480, fit: 'cover' })).toMatchObject({ status: 422, body: { code: 'too_many_pixels' } });
    expect((await renderLink(server, id, { width: 480 })).status).toBe(201);
  });

  it('with ONDEMAND_WIDTHS, renders those widths in the server’s formats and nothing else: no other height, fit or format', async () => {
    const server = await testServer({ ONDEMAND_WIDTHS: '320,480', OUTPUT_FORMATS: 'webp,jpeg' });
    const id = await server.upload(await noisy(1200, 800));
    expect(await renderLink(server, id, { width: 500 })).toMatchObject({ status: 422, body: { code: 'width_not_allowed' } });
    for (const ask of [{ height: 300 }, { fit: 'cover' }, { height: 480, fit: 'inside' }]) {
      expect(await renderLink(server, id, { width: 480, ...ask }), JSON.stringify(ask)).toMatchObject({ status: 422, body: { code: 'size_not_allowed' } });
    }
    expect(await renderLink(server, id, { width: 480, format: 'avif' })).toMatchObject({ status: 422, body: { code: 'format_not_allowed' } });
    expect((await renderLink(server, id, { width: 480, format: 'jpeg' })).status).toBe(201);
    const { body } = await renderLink(server, id, { width: 480 });
    expect((await fetch(body.url)).status).toBe(200);
    expect((await renderLink(server, id, { width: 0 })).status).toBe(400);
    expect((await renderLink(server, 'no-such-image', { width: 320 })).status).toBe(404);
  });

  it('goes with its image: deleting the image deletes its renders, and the link stops answering', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(800, 600));
    await server.settled(id);
    const { body } = await renderLink(server, id, { width: 100 });
    expect((await fetch(body.url)).status).toBe(200);
    expect((await server.api(`/v1/images/${id}`, { method: 'DELETE' })).status).toBe(204);
    const left = [];
    for await (const object of server.output.list(`${id}/`)) left.push(object.key);
    expect(left).toEqual([]);
    expect((await fetch(body.url)).status).toBe(404);
  });

  it('ends a render at its deadline, the work and not only the answer: its process is gone, and the next render works', async () => {
    const server = await testServer({ PROCESS_TIMEOUT_MS: '300' });
    const id = await server.upload(await noisy(2400, 1660));
    await server.settled(id);
    const { body } = await renderLink(server, id, { width: 2400, format: 'avif' });
    // Handing out the link started the render processes; once they idle, the one that works is the render's.
    const idle = await idleRenderProcesses();
    expect(idle.length).toBeGreaterThan(0);
    const before = await cpuTicks(idle);
    const answer = fetch(body.url);
    let encoding: string | undefined;
    while (!encoding) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = await cpuTicks(idle);
      encoding = idle.find((pid) => now[pid]! - before[pid]! >= 3);
    }
    const slow = await answer;
    expect(slow.status).toBe(422);
    expect(await slow.json()).toMatchObject({ code: 'timeout' });
    // The process that was encoding is gone (a fresh one may be starting for the next render); the idle ones stay.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await renderProcesses();
    expect(after).not.toContain(encoding);
    expect(idle.filter((pid) => pid !== encoding).every((pid) => after.includes(pid))).toBe(true);
    // Asked again, the failure is remembered: nothing is started.
    expect((await fetch(body.url)).status).toBe(422);
    const { body: small } = await renderLink(server, id, { width: 100 });
    expect((await fetch(small.url)).status).toBe(200);
  });
});

/** The pids of this process's render children (see imaging/render-host.ts). */
async function renderProcesses(): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve) => execFile('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], (_error, stdout) => resolve(stdout)));
  return out.split('\n').filter((line) => line.includes('render-child')).map((line) => line.trim().split(/\s+/)[0]!);
}

/** CPU time each process has used so far, in clock ticks (utime + stime of /proc/{pid}/stat). */
async function cpuTicks(pids: string[]): Promise<Record<string, number>> {
  const { readFile } = await import('node:fs/promises');
  const ticks: Record<string, number> = {};
  for (const pid of pids) {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ') x 0 0 0 0 0 0 0 0 0 0 0 0')).split(') ')[1]!.split(' ');
    ticks[pid] = Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

/** The render processes once they have all started and sit idle: the same pids, using no CPU, for 300 ms. */
async function idleRenderProcesses(): Promise<string[]> {
  let last = '';
  for (;;) {
    const pids = await renderProcesses();
    const now = JSON.stringify([pids, await cpuTicks(pids)]);
    if (pids.length > 0 && now === last) return pids;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
