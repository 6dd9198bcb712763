import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** What a refused body may still cost to read: the bytes and the time past the answer. */
export interface DrainBound {
  bytes: number;
  ms: number;
}

/**
 * An answer sent before its request's body has arrived (401, 413, 429, 503 to an upload) reaches a
 * client that is still sending only if the server keeps reading: closing the socket under incoming
 * data makes the kernel answer with a reset, and the client sees EPIPE or ECONNRESET instead of the
 * status it could back off from. So the rest of the body is read and thrown away, up to `bound`;
 * then the connection carries on (the body is all read) or, past the bound, is cut.
 */
export function drainRefusedBodies(server: Server, bound: DrainBound): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      if (req.complete || req.destroyed) return;
      let read = 0;
      const cut = () => req.socket.destroy();
      const timer = setTimeout(cut, bound.ms);
      req.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > bound.bytes) cut();
      });
      req.once('close', () => clearTimeout(timer));
      req.resume();
    });
  });
}
