import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * The address a request came from: the socket's peer on Node's server, API Gateway's source IP
 * on Lambda. Never a header the client writes (X-Forwarded-For is the client's to forge).
 */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: unknown; event?: { requestContext?: { identity?: { sourceIp?: string } } } } | undefined;
  if (env?.incoming instanceof IncomingMessage) return env.incoming.socket.remoteAddress ?? 'unknown';
  return env?.event?.requestContext?.identity?.sourceIp ?? 'unknown';
}
