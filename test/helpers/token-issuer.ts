import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { closeServer, listenOnLoopback } from './loopback.js';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  published: boolean;
}

export interface TokenOptions {
  sub?: string;
  /** Claims to add or (with undefined) to leave out. */
  claims?: Record<string, unknown>;
  typ?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** Sign with this key (by kid) instead of the newest published one. */
  kid?: string;
}

/**
 * An OpenID issuer of our own for the token tests: a discovery document and a JWKS over real
 * HTTP, keys it can add (a rotation) and remove, and access tokens signed with jose. Unlike a full
 * provider, it can also make the tokens a verifier must refuse.
 */
export async function startTokenIssuer(audience: string) {
  const keys: SigningKey[] = [];
  let jwksFetches = 0;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, response_types_supported: ['code'] }));
    } else if (path === '/jwks') {
      jwksFetches++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: keys.filter((key) => key.published).map((key) => key.jwk) }));
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  const issuer = await listenOnLoopback(server);

  async function addKey(alg = 'ES256'): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${randomUUID().slice(0, 8)}`;
    keys.push({ kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, published: true });
    return kid;
  }
  await addKey();

  const payload = (options: TokenOptions): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: issuer, sub: options.sub ?? 'alice', aud: audience, client_id: audience, iat: now, exp: now + (options.expiresIn ?? 300), scope: 'openid', ...options.claims };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return claims as JWTPayload;
  };

  return {
    issuer,
    get jwksFetches() {
      return jwksFetches;
    },
    addKey,
    /** Takes a key out of the JWKS (tokens it signed must then be refused). */
    unpublish(kid: string) {
      keys.find((key) => key.kid === kid)!.published = false;
    },
    /** An RFC 9068 access token (`typ: at+jwt`), or as the options change it. */
    async sign(options: TokenOptions = {}): Promise<string> {
      const key = options.kid ? keys.find((candidate) => candidate.kid === options.kid)! : keys.findLast((candidate) => candidate.published)!;
      return new SignJWT(payload(options)).setProtectedHeader({ alg: key.jwk.alg!, kid: key.kid, typ: options.typ ?? 'at+jwt' }).sign(key.privateKey);
    },
    /** `alg: none`: no signature at all. */
    unsigned(options: TokenOptions = {}): string {
      return new UnsecuredJWT(payload(options)).encode();
    },
    /** HS256 with the issuer's public key (as PEM text) for the secret: the classic key-confusion attack. */
    async signedWithPublicKeyAsSecret(options: TokenOptions = {}): Promise<string> {
      const key = keys.findLast((candidate) => candidate.published)!;
      const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
      return new SignJWT(payload(options)).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(secret);
    },
    close: () => closeServer(server),
  };
}

export type TokenIssuer = Awaited<ReturnType<typeof startTokenIssuer>>;

/** The token with its payload changed after signing (the signature no longer matches). */
export function tamper(token: string, change: Record<string, unknown>): string {
  const [header, body, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
  return [header, Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url'), signature].join('.');
}
