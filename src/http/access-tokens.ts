import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { isAcceptedIssuer } from '../config/config.js';
import { AppError } from '../errors.js';
import type { Owner } from '../lifecycle/owner.js';

/** Signatures made with a private key only: never `none`, never a secret shared with anyone (HS*). */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** The clock skew allowed on `exp` and `nbf`. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * The issuer's keys are fetched again at most this often for an unknown `kid` (a rotation), and
 * kept at most JWKS_MAX_AGE_MS: a key the issuer removes is refused within that time (a fetch every
 * 15 s at most, while tokens come).
 */
const JWKS_COOLDOWN_MS = 15_000;
const JWKS_MAX_AGE_MS = 15_000;
/** After a failed discovery, requests are refused (503) for this long before it is tried again. */
const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

export interface AccessTokenSettings {
  issuer: string;
  /** What `aud` must hold, or (for tokens without `aud`, as Cognito's) what `client_id` must be. */
  audience: string;
  /** For tests: how long the issuer's keys are kept. */
  jwksMaxAgeMs?: number;
}

export interface SignedInUser {
  owner: Owner;
  subject: string;
}

/** The owner id of a signed-in user: the same for the same issuer and subject, whatever the token. */
export const userOwnerId = (issuer: string, subject: string) => `user-${createHash('sha256').update(`${issuer}\n${subject}`).digest().subarray(0, 12).toString('hex')}`;

const refused = (reason: string) =>
  new AppError(401, 'unauthorized', reason, { 'www-authenticate': 'Bearer error="invalid_token"' });

/** RFC 9068's `at+jwt` (also as `application/at+jwt`), or Cognito's `token_use: access`: never an ID token. */
function isAccessToken(typ: string | undefined, payload: JWTPayload): boolean {
  const type = typ?.toLowerCase().replace(/^application\//, '');
  return type === 'at+jwt' || payload.token_use === 'access';
}

const audienceOf = (payload: JWTPayload) => (payload.aud === undefined ? undefined : Array.isArray(payload.aud) ? payload.aud : [payload.aud]);

/**
 * Verifies bearer access tokens from one OpenID Connect issuer, with jose: the issuer's discovery
 * document names its key set, which is cached and fetched again (at a bounded rate) when a token
 * names a key it does not hold. A refusal says why, never echoing the token.
 */
export function createAccessTokenVerifier(settings: AccessTokenSettings): (token: string) => Promise<SignedInUser> {
  const { issuer, audience } = settings;
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  let discovery: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  let failedAt = 0;

  async function discover() {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== issuer) throw new Error('the discovery document names another issuer');
    if (typeof document.jwks_uri !== 'string' || !isAcceptedIssuer(new URL(document.jwks_uri))) throw new Error('the discovery document has no usable jwks_uri');
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: settings.jwksMaxAgeMs ?? JWKS_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
  }

  async function keySet() {
    if (keys) return keys;
    if (!discovery) {
      if (Date.now() - failedAt < DISCOVERY_RETRY_MS) throw unreachable();
      discovery = discover();
    }
    try {
      return (keys = await discovery);
    } catch {
      failedAt = Date.now();
      discovery = undefined;
      throw unreachable();
    }
  }

  return async (token) => {
    // Read before the signature only to name the reason of a refusal; nothing is trusted until jwtVerify.
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw refused('The bearer token is not a well-formed JWT.');
    }
    if (!header.alg || !ACCEPTED_ALGORITHMS.includes(header.alg)) throw refused(`Tokens signed with ${header.alg ?? 'no algorithm'} are not accepted.`);
    if (claims.iss !== issuer) throw refused('The token is from another issuer.');
    if (!isAccessToken(header.typ, claims)) throw refused('The token is not an access token (an ID token cannot call the API).');
    const aud = audienceOf(claims);
    if (aud ? !aud.includes(audience) : claims.client_id !== audience) throw refused('The token is for another audience.');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        issuer,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw reasonOf(error);
    }
    return { owner: { id: userOwnerId(issuer, payload.sub!) }, subject: payload.sub! };
  };
}

const unreachable = () => new AppError(503, 'sign_in_unavailable', 'The sign-in service could not be reached to check the token; try again shortly.', { 'retry-after': '5' });

function reasonOf(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof errors.JWTExpired) return refused('The token has expired; sign in again.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return refused(error.claim === 'nbf' ? 'The token is not valid yet.' : `The token's ${error.claim} claim is not valid.`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return refused('The token is signed with a key the issuer does not publish.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('The token signature is not valid.');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return refused('The token algorithm is not accepted.');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof TypeError) return unreachable();
  return refused('The bearer token is not valid.');
}
