// The bench's HTTP client: node:http, as lean as curl. Node's fetch (undici) spends about four
// times the CPU to send a body, and the client shares this machine's cores with the server it
// measures: eight 3.8 MB uploads at once took 630 ms through fetch against 150 ms through node:http.
import { request } from 'node:http';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One request; the answer's JSON body ({} when it has none). */
export function call(url: string, method = 'GET', body?: Buffer, contentType = 'application/octet-stream'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body ? { 'content-type': contentType, 'content-length': body.length } : {};
    const sent = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: response.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** A GET whose body is read whole and dropped; its status and byte count. */
export function download(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
