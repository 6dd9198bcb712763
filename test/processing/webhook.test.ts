import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { noisy, solid } from '../helpers/images.js';
import { useTestServer } from '../helpers/server.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

const testServer = useTestServer();
const SECRET = 'webhook-secret-0123456789';
const closers: Array<() => Promise<void>> = [];
afterEach(() => Promise.all(closers.splice(0).map((close) => close())));

async function receiver(statuses: number[]) {
  const hook = await webhookReceiver(statuses);
  closers.push(hook.close);
  return hook;
}

async function until(check: () => boolean) {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('completion webhook', () => {
  it('POSTs the image, as the API shows it, when it is done, signed, and retries a failed delivery', async () => {
    const hook = await receiver([500, 200]);
    const server = await testServer({ WEBHOOK_URL: hook.url, WEBHOOK_SECRET: SECRET });
    const id = await server.upload(await solid(400, 300, '#336699'));
    await until(() => hook.deliveries.length >= 2);
    expect(hook.deliveries.map((d) => d.status)).toEqual([500, 200]);
    const delivered = hook.deliveries[1]!;
    expect(delivered.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(delivered.body).digest('hex')}`);
    const payload = JSON.parse(delivered.body) as { event: string; image: Record<string, any> };
    expect(payload.event).toBe('image.done');
    expect(payload.image).toMatchObject({ id, status: 'done', variants: [{ name: 'thumbnail' }, { name: 'medium' }, { name: 'large' }] });
    expect(payload.image.sourceEtag).toBeUndefined();
    // The API's own shape (GET /v1/images/{id}), without the links, as the OpenAPI document says.
    const { originalUrl: _originalUrl, ...view } = (await (await server.api(`/v1/images/${id}`)).json()) as { originalUrl: string; variants: Record<string, unknown>[] };
    expect(payload.image).toEqual({ ...view, variants: view.variants.map(({ url: _url, ...variant }) => variant) });
    const doc = (await (await server.api('/openapi.json')).json()) as { webhooks: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.webhooks.imageSettled).toBeDefined();
    expect(doc.components.schemas.WebhookEvent).toBeDefined();
  });

  it('reports an upload that timed out once: the folder watcher does not queue what the store announced', async () => {
    const hook = await receiver([]);
    const server = await testServer({ WEBHOOK_URL: hook.url, WEBHOOK_SECRET: SECRET, PROCESS_TIMEOUT_MS: '100', VARIANTS: 'big:4000x4000:inside:avif' });
    const id = await server.upload(await noisy(1200, 800));
    expect(await server.settled(id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    // Past the watcher's settling time, and the run it would have queued.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.queue.idle();
    await until(() => hook.deliveries.length >= 1);
    expect(hook.deliveries.map((d) => JSON.parse(d.body).event)).toEqual(['image.failed']);
  });

  it('never holds processing up when the receiver is down', async () => {
    const hook = await receiver([]);
    await closers.pop()!();
    const server = await testServer({ WEBHOOK_URL: hook.url });
    const id = await server.upload((await solid(400, 300, '#000000')).subarray(0, 400));
    // Done (here: failed) at once, while the deliveries are still being retried.
    expect((await server.settled(id)).status).toBe('failed');
  });
});
