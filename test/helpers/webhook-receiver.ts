import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook receiver on loopback that answers each delivery with the next status of `statuses` (then 200). */
export async function webhookReceiver(statuses: number[] = []) {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
