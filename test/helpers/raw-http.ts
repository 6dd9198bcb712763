import { connect, type Socket } from 'node:net';

/**
 * An HTTP/1.1 request written by hand, for what fetch cannot do: stall half-way through a body,
 * or vanish. `body` is sent after the headers; the declared length may be larger.
 */
export function startRawRequest(url: string, head: string, body: Buffer): { socket: Socket; response: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(head.replace(/\n/g, '\r\n') + '\r\n\r\n');
  socket.write(body);
  const response = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  return { socket, response };
}

export const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
