import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { solid } from '../helpers/images.js';
import { useTestServer, type TestServer } from '../helpers/server.js';
import { startTokenIssuer, tamper, type TokenIssuer } from '../helpers/token-issuer.js';

const CLIENT = 'image-page';
const MACHINE_KEY = 'machine-key-0123456789';
let issuer: TokenIssuer;
const testServer = useTestServer();

beforeAll(async () => {
  issuer = await startTokenIssuer(CLIENT);
});
afterAll(() => issuer.close());
afterEach(() => vi.useRealTimers());

const signedIn = (env: Record<string, string> = {}) => testServer({ OIDC_ISSUER: issuer.issuer, OIDC_CLIENT_ID: CLIENT, API_KEYS: MACHINE_KEY, ...env });
const as = (token: string) => ({ authorization: `Bearer ${token}` });

async function uploadAs(server: TestServer, headers: Record<string, string>): Promise<string> {
  const response = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(await solid(64, 48, 'red')), headers: { 'content-type': 'image/png', ...headers } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const ids = async (server: TestServer, headers: Record<string, string>) =>
  ((await (await server.api('/v1/images', { headers })).json()) as { items: { id: string }[] }).items.map((item) => item.id);

describe('sign-in with an OpenID Connect issuer', () => {
  it('tells the page how to sign in, without credentials', async () => {
    const server = await signedIn();
    const response = await fetch(`${server.url}/v1/sign-in`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ issuer: issuer.issuer, clientId: CLIENT, scope: 'openid email profile' });
    const off = await testServer();
    expect((await fetch(`${off.url}/v1/sign-in`)).status).toBe(204);
  });

  it('keeps the images of each user and each key apart', async () => {
    const server = await signedIn();
    const alice = as(await issuer.sign({ sub: 'alice' }));
    const bob = as(await issuer.sign({ sub: 'bob' }));
    const machine = { 'x-api-key': MACHINE_KEY };
    const aliceImage = await uploadAs(server, alice);
    const machineImage = await uploadAs(server, machine);
    await server.settled(aliceImage).catch(() => undefined);

    expect(await ids(server, alice)).toEqual([aliceImage]);
    expect(await ids(server, bob)).toEqual([]);
    expect(await ids(server, machine)).toEqual([machineImage]);
    for (const path of [`/v1/images/${aliceImage}`, `/v1/images/${aliceImage}/original`, `/v1/images/${aliceImage}/variants/thumbnail`]) {
      expect((await server.api(path, { headers: bob })).status, path).toBe(404);
      expect((await server.api(path, { headers: machine })).status, path).toBe(404);
    }
    expect((await server.api(`/v1/images/${aliceImage}`, { method: 'DELETE', headers: bob })).status).toBe(404);
    expect((await server.api(`/v1/images/${machineImage}`, { headers: alice })).status).toBe(404);

    // A new token of the same person is the same owner.
    const again = as(await issuer.sign({ sub: 'alice' }));
    expect((await server.api(`/v1/images/${aliceImage}`, { headers: again })).status).toBe(200);
    expect((await server.api(`/v1/images/${aliceImage}`, { method: 'DELETE', headers: again })).status).toBe(204);
  });

  it('scopes idempotency, renders and the rate limit to each person, as for keys', async () => {
    const server = await signedIn({ RATE_LIMIT_PER_MINUTE: '30', URL_SIGNING_SECRET: 'sign-in-test-url-signing-secret-0123456789' });
    const alice = as(await issuer.sign({ sub: 'alice' }));
    const bob = as(await issuer.sign({ sub: 'bob' }));
    const post = async (headers: Record<string, string>) => {
      const response = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(await solid(48, 32, 'navy')), headers: { 'content-type': 'image/png', 'idempotency-key': 'same-key', ...headers } });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    };
    const first = await post(alice);
    expect(await post(alice)).toBe(first);
    expect(await post(bob)).not.toBe(first);
    await server.settled(first).catch(() => undefined);
    const render = (headers: Record<string, string>) => server.api(`/v1/images/${first}/renders`, { method: 'POST', body: JSON.stringify({ width: 16 }), headers: { 'content-type': 'application/json', ...headers } });
    expect((await render(alice)).status).toBe(201);
    expect((await render(bob)).status).toBe(404);
    // Alice's requests run out; Bob's minute is his own.
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) status = (await server.api('/v1/images', { headers: alice })).status;
    expect(status).toBe(429);
    expect((await server.api('/v1/images', { headers: bob })).status).toBe(200);
  });

  it('takes a Cognito access token (token_use: access, client_id, no aud)', async () => {
    const server = await signedIn();
    const token = await issuer.sign({ typ: 'JWT', claims: { aud: undefined, token_use: 'access', client_id: CLIENT } });
    expect((await server.api('/v1/images', { headers: as(token) })).status).toBe(200);
  });

  it('refuses every token it must not trust with 401, naming the reason and never echoing the token', async () => {
    const server = await signedIn();
    const other = await startTokenIssuer(CLIENT);
    const removedKid = await issuer.addKey();
    const removedKeyToken = await issuer.sign({ kid: removedKid });
    issuer.unpublish(removedKid);
    const valid = await issuer.sign();
    const cases: [string, string, RegExp][] = [
      ['expired', await issuer.sign({ expiresIn: -120 }), /expired/],
      ['another audience', await issuer.sign({ claims: { aud: 'some-other-api' } }), /another audience/],
      ['no aud and another client', await issuer.sign({ typ: 'JWT', claims: { aud: undefined, token_use: 'access', client_id: 'another-client' } }), /another audience/],
      ['another issuer', await other.sign(), /another issuer/],
      ['another issuer claiming ours', await other.sign({ claims: { iss: issuer.issuer } }), /key the issuer does not publish/],
      ['alg none', issuer.unsigned(), /none are not accepted/],
      ['HS256 with the public key as secret', await issuer.signedWithPublicKeyAsSecret(), /HS256 are not accepted/],
      ['tampered payload', tamper(valid, { sub: 'mallory' }), /signature is not valid/],
      ['removed key', removedKeyToken, /key the issuer does not publish/],
      ['an ID token', await issuer.sign({ typ: 'JWT' }), /not an access token/],
      ['not yet valid', await issuer.sign({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }), /not valid yet/],
      ['not a JWT', 'abc.def', /not a well-formed JWT/],
    ];
    await other.close();
    for (const [name, token, reason] of cases) {
      const response = await server.api('/v1/images', { headers: as(token) });
      expect(response.status, name).toBe(401);
      expect(response.headers.get('www-authenticate'), name).toMatch(/^Bearer error="invalid_token"/);
      const text = await response.text();
      expect(JSON.parse(text), name).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(reason) });
      for (const part of token.split('.')) if (part.length > 8) expect(text, name).not.toContain(part);
    }
    // Within the clock skew of 60 s, an expired token still works; past it, not.
    expect((await server.api('/v1/images', { headers: as(await issuer.sign({ expiresIn: -30 })) })).status).toBe(200);
    expect((await server.api('/v1/images', { headers: as(valid) })).status).toBe(200);
  });

  it('follows a key rotation, and fetches the keys again at a bounded rate', async () => {
    const server = await signedIn();
    expect((await server.api('/v1/images', { headers: as(await issuer.sign()) })).status).toBe(200);
    const fetchesBefore = issuer.jwksFetches;
    // A flood of tokens naming a key nobody published costs at most one fetch.
    const strangers = await startTokenIssuer(CLIENT);
    const forged = await strangers.sign({ claims: { iss: issuer.issuer } });
    await strangers.close();
    for (let i = 0; i < 20; i++) expect((await server.api('/v1/images', { headers: as(forged) })).status).toBe(401);
    expect(issuer.jwksFetches - fetchesBefore).toBeLessThanOrEqual(1);

    const newKid = await issuer.addKey('RS256');
    const rotated = await issuer.sign({ kid: newKid });
    // Within 15 s of its publication (well inside the 60 s asked for) the new key is taken.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 16_000 });
    expect((await server.api('/v1/images', { headers: as(rotated) })).status).toBe(200);
    // And a key the issuer removes is refused within 15 s of the removal.
    issuer.unpublish(newKid);
    vi.setSystemTime(Date.now() + 16_000);
    expect((await server.api('/v1/images', { headers: as(await issuer.sign({ kid: newKid })) })).status).toBe(401);
  });

  it('without a token or key, asks for either', async () => {
    const server = await signedIn();
    const response = await fetch(`${server.url}/v1/images`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/sign in.*x-api-key/i);
  });

  it('answers 503 (not 401) while the issuer cannot be reached', async () => {
    const gone = await startTokenIssuer(CLIENT);
    const token = await gone.sign();
    await gone.close();
    const server = await testServer({ OIDC_ISSUER: gone.issuer, OIDC_CLIENT_ID: CLIENT });
    const response = await server.api('/v1/images', { headers: as(token) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('accepts an http:// issuer on loopback only', async () => {
    await expect(testServer({ OIDC_ISSUER: 'http://issuer.example.com', OIDC_CLIENT_ID: CLIENT })).rejects.toThrow(/OIDC_ISSUER.*https/);
    await expect(testServer({ OIDC_ISSUER: 'https://issuer.example.com' })).rejects.toThrow(/OIDC_CLIENT_ID/);
  });
});
