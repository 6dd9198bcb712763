import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { solid } from '../helpers/images.js';
import { startTestServer } from '../helpers/server.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();
const SECRET = 'webhook-secret-0123456789';
const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((server) => server.close()));

/** A receiver on loopback that answers each delivery with the next status of `statuses`. */
async function receiver(statuses: number[]) {
  const deliveries: Array<{ body: string; signature: string | undefined; status: number }> = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const status = statuses[deliveries.length] ?? 200;
      deliveries.push({ body, signature: request.headers['x-signature-256'] as string | undefined, status });
      response.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, deliveries };
}

async function until(check: () => boolean) {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('completion webhook', () => {
  it('POSTs the manifest when an image is done, signed, and retries a failed delivery', async () => {
    const hook = await receiver([500, 200]);
    const server = await startTestServer(await tempDirs(), { WEBHOOK_URL: hook.url, WEBHOOK_SECRET: SECRET });
    try {
      const id = await server.upload(await solid(400, 300, '#336699'));
      await until(() => hook.deliveries.length >= 2);
      expect(hook.deliveries.map((d) => d.status)).toEqual([500, 200]);
      const delivered = hook.deliveries[1]!;
      expect(delivered.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(delivered.body).digest('hex')}`);
      const payload = JSON.parse(delivered.body) as { event: string; image: Record<string, any> };
      expect(payload.event).toBe('image.done');
      expect(payload.image).toMatchObject({ id, status: 'done', variants: [{ name: 'thumbnail' }, { name: 'medium' }, { name: 'large' }] });
      expect(payload.image.sourceEtag).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('never holds processing up when the receiver is down', async () => {
    const hook = await receiver([]);
    servers.pop()!.close();
    const server = await startTestServer(await tempDirs(), { WEBHOOK_URL: hook.url });
    try {
      const id = await server.upload((await solid(400, 300, '#000000')).subarray(0, 400));
      // Done (here: failed) at once, while the deliveries are still being retried.
      expect((await server.settled(id)).status).toBe('failed');
    } finally {
      await server.close();
    }
  });
});
