import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The one key pair s3rver knows; the SDK's default chain reads it from the environment (see s3rver.ts). */
const SECRETS: Record<string, string> = { S3RVER: 'S3RVER' };

const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** `20261127T165500Z` as a Date. */
const amzDate = (value: string) => new Date(value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

/**
 * Checks an S3 request's Signature Version 4 (header or presigned query) as S3 does, which s3rver
 * does not ("Signature version 4 calculation is unimplemented"): the signed headers must be sent
 * with the very values signed (a presigned PUT's Content-Length among them), and a presigned URL
 * must not have expired. Returns why it fails, or undefined when it holds.
 */
export function sigV4Problem(req: IncomingMessage, now = new Date()): string | undefined {
  const raw = req.url ?? '/';
  const [path = '/', search = ''] = raw.split('?', 2) as [string, string?];
  const params = search
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=', 2) as [string, string?];
      return [decodeURIComponent(name), decodeURIComponent(value)] as const;
    });
  const query = new Map(params);

  let credential: string, signedHeaders: string, signature: string, date: string, payloadHash: string;
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(authorization);
    if (!match) return 'not a SigV4 Authorization header';
    [, credential = '', signedHeaders = '', signature = ''] = match;
    date = String(req.headers['x-amz-date'] ?? '');
    payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (Math.abs(now.getTime() - amzDate(date).getTime()) > 15 * 60_000) return 'RequestTimeTooSkewed';
  } else if (query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    credential = query.get('X-Amz-Credential') ?? '';
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? '';
    signature = query.get('X-Amz-Signature') ?? '';
    date = query.get('X-Amz-Date') ?? '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    if (amzDate(date).getTime() + Number(query.get('X-Amz-Expires')) * 1000 < now.getTime()) return 'Request has expired';
  } else {
    return 'anonymous request';
  }

  const [accessKey = '', ...scopeParts] = credential.split('/');
  const secret = SECRETS[accessKey];
  if (!secret) return 'InvalidAccessKeyId';
  const canonicalQuery = params
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a = '', x = ''], [b = '', y = '']) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headerValue = (name: string) => {
    const value = req.headers[name];
    return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
  };
  const names = signedHeaders.split(';');
  const canonicalRequest = [
    req.method,
    path.split('/').map((segment) => rfc3986(decodeURIComponent(segment))).join('/'),
    canonicalQuery,
    names.map((name) => `${name}:${headerValue(name)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = scopeParts.join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
  const key = scopeParts.reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secret}`);
  const expected = hmac(key, stringToSign);
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'SignatureDoesNotMatch';
}
