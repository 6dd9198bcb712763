import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';
import type { Owner } from '../lifecycle/owner.js';


/**
 * Checks an `x-api-key` against the configured keys, given in clear or as `sha256:<hex>`, in
 * constant time: the candidate is hashed, and every configured digest is compared whatever
 * matched before. Returns the caller, or undefined when authentication is off.
 */
export function createKeyChecker(keys: string[], ownerIdSecret: string | undefined): (given: string | undefined) => Owner | undefined {
  const digests = keys.map((key) =>
    key.startsWith('sha256:') ? Buffer.from(key.slice('sha256:'.length), 'hex') : createHash('sha256').update(key).digest(),
  );
  if (digests.length > 0 && !ownerIdSecret) throw new Error('API keys need a secret to derive owner ids from.');
  return (given) => {
    if (digests.length === 0) return undefined;
    const candidate = createHash('sha256').update(given ?? '').digest();
    let match: Buffer | undefined;
    for (const digest of digests) if (timingSafeEqual(digest, candidate)) match = digest;
    if (!given || !match) {
      throw new AppError(401, 'unauthorized', given ? 'The API key is not valid.' : 'This API needs an x-api-key header.');
    }
    return { id: ownerId(ownerIdSecret!, match), formerId: formerOwnerId(match) };
  };
}

/**
 * The stable, non-secret name of a key's owner, stored with each image: an HMAC of the key's hash
 * under the server's secret, so an id seen in storage or a log cannot be tested against guessed keys.
 */
export const ownerId = (secret: string, digest: Buffer) => `owner-${createHmac('sha256', secret).update(digest).digest().subarray(0, 12).toString('hex')}`;

const formerOwnerId = (digest: Buffer) => `key-${digest.subarray(0, 12).toString('hex')}`;
