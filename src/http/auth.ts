import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

/**
 * Checks an `x-api-key` against the configured keys, given in clear or as `sha256:<hex>`, in
 * constant time: the candidate is hashed, and every configured digest is compared whatever
 * matched before. Returns the caller's owner id (derived from the key's hash, never the key), or
 * undefined when authentication is off.
 */
export function createKeyChecker(keys: string[]): (given: string | undefined) => string | undefined {
  const digests = keys.map((key) =>
    key.startsWith('sha256:') ? Buffer.from(key.slice('sha256:'.length), 'hex') : createHash('sha256').update(key).digest(),
  );
  return (given) => {
    if (digests.length === 0) return undefined;
    const candidate = createHash('sha256').update(given ?? '').digest();
    let match: Buffer | undefined;
    for (const digest of digests) if (timingSafeEqual(digest, candidate)) match = digest;
    if (!given || !match) {
      throw new AppError(401, 'unauthorized', given ? 'The API key is not valid.' : 'This API needs an x-api-key header.');
    }
    return ownerId(match);
  };
}

/** The stable, non-secret name of a key's owner: a prefix of the key's SHA-256. */
export const ownerId = (digest: Buffer) => `key-${digest.subarray(0, 12).toString('hex')}`;
