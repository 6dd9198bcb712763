import { describe, expect, it, vi } from 'vitest';
import { waitForEnd } from '../../src/lifecycle/wait-for-end.js';
import type { FoundImage } from '../../src/lifecycle/images.js';
import { noisy } from '../helpers/images.js';
import { useTestServer } from '../helpers/server.js';

const testServer = useTestServer();

describe('GET /v1/images/{id}?wait=N', () => {
  it('answers once the image is done: one request after the upload, no polling', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(2400, 1600));
    const response = await server.api(`/v1/images/${id}?wait=20`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; variants: unknown[] };
    expect(body.status).toBe('done');
    expect(body.variants.length).toBeGreaterThan(0);
  });

  it('holds hundreds of waiting requests without a thread each: the server keeps answering, and every one ends done', async () => {
    const server = await testServer({ CONCURRENCY: '1' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await server.upload(await noisy(3000 + i, 2000)));
    const waiting = Array.from({ length: 600 }, (_, i) => server.api(`/v1/images/${ids[i % ids.length]}?wait=20`).then((r) => r.json() as Promise<{ status: string }>));
    // While they wait, the server answers other requests.
    expect((await server.api('/healthz')).status).toBe(200);
    expect((await server.api('/v1/images?limit=5')).status).toBe(200);
    const answers = await Promise.all(waiting);
    expect(answers.every((answer) => answer.status === 'done')).toBe(true);
  });

  it('refuses a wait past 20 seconds or that is not a number', async () => {
    const server = await testServer();
    const id = await server.upload(await noisy(64, 64));
    for (const wait of ['21', '99', 'abc', '-1', '1.5']) expect((await server.api(`/v1/images/${id}?wait=${wait}`)).status, wait).toBe(400);
    expect((await server.api(`/v1/images/no-such-image?wait=1`)).status).toBe(404);
  });
});

describe('waitForEnd', () => {
  const pending = (): FoundImage => ({ id: 'a', original: { key: 'originals/a', size: 1, etag: 'e', lastModified: new Date(), metadata: {} } as FoundImage['original'] });

  it('answers the image as it is when the time runs out, reading it about once a second where processing runs elsewhere', async () => {
    let reads = 0;
    const record = await waitForEnd(async () => (reads++, pending()), 'a', { until: Date.now() + 2500 });
    expect(record.manifest).toBeUndefined();
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(5);
  });

  it('never spins when this process says the run ended before the image was queued', async () => {
    let reads = 0;
    await waitForEnd(async () => (reads++, pending()), 'a', { until: Date.now() + 1000, ended: async () => false });
    expect(reads).toBeLessThanOrEqual(7);
  });

  it('reads the image again as soon as this process says its run ended, without the gap kept between other reads', async () => {
    vi.useFakeTimers();
    try {
      let reads = 0;
      let endRun: (ran: boolean) => void = () => undefined;
      const done: FoundImage = { ...pending(), manifest: { status: 'done' } as FoundImage['manifest'] };
      const answer = waitForEnd(async () => (++reads === 1 ? pending() : done), 'a', { until: Date.now() + 20_000, ended: () => new Promise((resolve) => (endRun = resolve)) });
      await vi.advanceTimersByTimeAsync(10);
      expect(reads).toBe(1);
      endRun(true);
      // No timer needs to fire: the second read follows the end at once.
      await vi.advanceTimersByTimeAsync(0);
      expect(reads).toBe(2);
      expect((await answer).manifest?.status).toBe('done');
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops when the client goes away', async () => {
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 100);
    let reads = 0;
    await waitForEnd(async () => (reads++, pending()), 'a', { until: Date.now() + 20_000, signal: gone.signal });
    expect(reads).toBeLessThanOrEqual(2);
  });
});
