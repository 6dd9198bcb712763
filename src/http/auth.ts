import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

/**
 * Checks an `x-api-key` against the configured keys in constant time: both sides are hashed to
 * equal-length digests first, and every key is compared whatever matched before.
 */
export function createKeyChecker(keys: string[]): (given: string | undefined) => void {
  const digests = keys.map((key) => createHash('sha256').update(key).digest());
  return (given) => {
    if (digests.length === 0) return;
    const candidate = createHash('sha256').update(given ?? '').digest();
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(digest, candidate) || ok;
    if (!given || !ok) {
      throw new AppError(401, 'unauthorized', given ? 'The API key is not valid.' : 'This API needs an x-api-key header.');
    }
  };
}
