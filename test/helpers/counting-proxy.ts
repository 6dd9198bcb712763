import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A plain HTTP proxy in front of `target` that counts the requests it passes on. */
export async function countingProxy(target: string): Promise<{ endpoint: string; count(): number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let requests = 0;
  const server = createServer((incoming, answer) => {
    requests++;
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    forwarded.on('error', () => answer.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
