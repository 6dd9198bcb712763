import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { AppError } from '../errors.js';
import { clientAddress } from './client-address.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Operator's endpoints (`/metrics`: every tenant's counts, the queue's depth) are for the operator,
 * not for any holder of an API key: with METRICS_TOKEN, whoever sends it as a bearer token; without
 * it, only a client on this machine (a Prometheus agent beside the server).
 */
export function requireOperator(c: Context, token: string | undefined): void {
  if (token ? bearerMatches(c.req.header('authorization'), token) : LOOPBACK.test(clientAddress(c))) return;
  throw new AppError(403, 'operator_only', token ? 'This endpoint is for the operator: send METRICS_TOKEN as a bearer token.' : 'This endpoint answers only on this machine; set METRICS_TOKEN to read it from elsewhere.');
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
