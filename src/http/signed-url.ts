import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface UrlSigner {
  /** Returns `path?params&exp=..&sig=..`, valid until `expiresAt` (seconds since the epoch). */
  sign(method: string, path: string, params: Record<string, string>, expiresAt: number): string;
  /** True when `sig` matches the method, path and every other query parameter, and `exp` has not passed. */
  verify(method: string, url: URL, nowSeconds: number): boolean;
  /**
   * A value a URL must carry but its holder must not read (the uploader's owner id, from which a
   * weak key could be guessed offline): encrypted with a key derived from the same secret.
   */
  seal(value: string): string;
  /** The sealed value, or undefined when the token was not sealed with this secret. */
  unseal(token: string): string | undefined;
}

/**
 * HMAC-SHA256 over the method, the path and the sorted query, so no part of a signed URL can be
 * changed. Local stand-in for S3's presigned URLs: links that work without the API key.
 */
export function createUrlSigner(secret: string | Buffer = randomBytes(32)): UrlSigner {
  const mac = (method: string, path: string, params: URLSearchParams) => {
    const sorted = [...params].filter(([name]) => name !== 'sig').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const canonical = [method.toUpperCase(), path, new URLSearchParams(sorted).toString()].join('\n');
    return createHmac('sha256', secret).update(canonical).digest();
  };
  // AES-256-GCM under a key of its own, derived from the secret.
  const sealKey = createHmac('sha256', secret).update('seal').digest();
  return {
    seal(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    unseal(token) {
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length < 28) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', sealKey, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
    sign(method, path, params, expiresAt) {
      const query = new URLSearchParams({ ...params, exp: String(expiresAt) });
      query.set('sig', mac(method, path, query).toString('base64url'));
      return `${path}?${query}`;
    },
    verify(method, url, nowSeconds) {
      const sig = url.searchParams.get('sig');
      const exp = Number(url.searchParams.get('exp'));
      if (!sig || !Number.isInteger(exp) || exp < nowSeconds) return false;
      // Compared as text: base64 decoders forgive padding, spaces and a changed last character's
      // unused bits, and one link must have one URL (caches key on it).
      const expected = Buffer.from(mac(method, url.pathname, url.searchParams).toString('base64url'));
      const given = Buffer.from(sig);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/**
 * Expiry rounded to a window, so one image's links stay the same between polls and browsers can
 * cache them; every link is valid for at least `ttlSeconds`.
 */
export function linkExpiry(nowSeconds: number, ttlSeconds: number): number {
  return (Math.floor(nowSeconds / ttlSeconds) + 2) * ttlSeconds;
}
