import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/config.js';
import { AppError } from '../errors.js';
import type { Owner } from '../lifecycle/owner.js';
import { createAccessTokenVerifier } from './access-tokens.js';
import { askForCredentials, KEY_NOT_VALID } from './credential-refusals.js';
import { keyDigest, watchKeyFile } from './key-file.js';

/** What a request shows of who it is. */
export interface Credentials {
  /** The `Authorization` header. */
  authorization: string | undefined;
  /** The `x-api-key` header. */
  apiKey: string | undefined;
}

export interface AuthSettings extends Pick<Config, 'apiKeys' | 'ownerIdSecret' | 'oidc'> {
  /** The file `image-processor keys` manages (locally); read again when it changes. */
  keyFile?: string;
  /** For tests: how long the issuer's keys are kept. */
  jwksMaxAgeMs?: number;
}

/**
 * Who is calling: a person signed in with the OpenID Connect issuer (a bearer access token), or a
 * machine with an API key (API_KEYS, or one of the key file's). Undefined when nothing asks for
 * authentication: no OIDC_ISSUER, no API_KEYS and no key file (the local default).
 */
export function createAuthenticator(settings: AuthSettings): (given: Credentials) => Promise<Owner | undefined> {
  const fixed = settings.apiKeys.map((key) => (key.startsWith('sha256:') ? Buffer.from(key.slice('sha256:'.length), 'hex') : keyDigest(key)));
  const fileKeys = settings.keyFile ? watchKeyFile(settings.keyFile) : async () => ({ exists: false, digests: [] as Buffer[] });
  const verifyToken = settings.oidc ? createAccessTokenVerifier({ issuer: settings.oidc.issuer, audience: settings.oidc.audience, ...(settings.jwksMaxAgeMs ? { jwksMaxAgeMs: settings.jwksMaxAgeMs } : {}) }) : undefined;

  return async ({ authorization, apiKey }) => {
    const bearer = bearerToken(authorization);
    if (verifyToken && bearer) return (await verifyToken(bearer)).owner;
    const file = await fileKeys();
    const digests = [...fixed, ...file.digests];
    if (!verifyToken && fixed.length === 0 && !file.exists) return undefined;
    if (!apiKey) {
      throw new AppError(401, 'unauthorized', askForCredentials(Boolean(verifyToken)));
    }
    // A key not seen yet may be one just created: the file is looked at again, at most ten times a second.
    const match = matchKey(digests, apiKey) ?? matchKey((await fileKeys(NEW_KEY_RECHECK_MS)).digests, apiKey);
    if (!match) throw new AppError(401, 'unauthorized', KEY_NOT_VALID);
    if (!settings.ownerIdSecret) throw new Error('API keys need a secret to derive owner ids from.');
    return { id: ownerId(settings.ownerIdSecret, match), formerId: formerOwnerId(match) };
  };
}

const NEW_KEY_RECHECK_MS = 100;

/** The token of an `Authorization: Bearer <token>` header. */
export const bearerToken = (authorization: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];

/** The digest the key hashes to, compared in constant time with every one (whatever matched before). */
function matchKey(digests: Buffer[], given: string): Buffer | undefined {
  const candidate = createHash('sha256').update(given).digest();
  let match: Buffer | undefined;
  for (const digest of digests) if (timingSafeEqual(digest, candidate)) match = digest;
  return match;
}

/**
 * The stable, non-secret name of a key's owner, stored with each image: an HMAC of the key's hash
 * under the server's secret, so an id seen in storage or a log cannot be tested against guessed keys.
 */
export const ownerId = (secret: string, digest: Buffer) => `owner-${createHmac('sha256', secret).update(digest).digest().subarray(0, 12).toString('hex')}`;

const formerOwnerId = (digest: Buffer) => `key-${digest.subarray(0, 12).toString('hex')}`;
