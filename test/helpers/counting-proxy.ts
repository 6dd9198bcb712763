import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as it passed: method, path and query, and the object it copies from, if any. */
export interface PassedRequest {
  method: string;
  url: string;
  copySource?: string;
}

/** A plain HTTP proxy in front of `target` that counts (and keeps) the requests it passes on. */
export async function countingProxy(target: string): Promise<{ endpoint: string; count(): number; requests: PassedRequest[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  let requests = 0;
  const passed: PassedRequest[] = [];
  const server = createServer((incoming, answer) => {
    requests++;
    const copySource = incoming.headers['x-amz-copy-source'];
    passed.push({ method: incoming.method ?? '', url: incoming.url ?? '', ...(typeof copySource === 'string' ? { copySource } : {}) });
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
    requests: passed,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
