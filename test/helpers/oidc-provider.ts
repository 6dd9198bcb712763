import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { closeServer, listenOnLoopback } from './loopback.js';

export const PAGE_CLIENT = 'image-page';
export const API_AUDIENCE = 'urn:image-processor:api';

export interface ProviderSettings {
  /** Access token lifetime, seconds. */
  accessTokenTtl: number;
  /** Whether the page gets a refresh token. */
  refreshTokens: boolean;
}

/**
 * A certified OpenID provider (panva's oidc-provider) on a loopback port, with its own login and
 * consent forms: a public client for the page (code flow, PKCE), RFC 9068 JWT access tokens for
 * the API, refresh tokens when asked. `listen()` first (the server needs the issuer's URL), then
 * `start(pageUrl)` once the page's address, its redirect URI, is known.
 */
export async function listenForProvider() {
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => {
    if (handler) handler(request, response);
    else response.writeHead(503).end();
  });
  const issuer = await listenOnLoopback(server);
  const settings: ProviderSettings = { accessTokenTtl: 600, refreshTokens: true };
  const grants: string[] = [];

  async function start(pageUrl: string) {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: PAGE_CLIENT,
          token_endpoint_auth_method: 'none',
          redirect_uris: [pageUrl],
          post_logout_redirect_uris: [pageUrl],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
      ],
      jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'provider-key', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: ['oidc-provider-test-cookie-key'] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ sub, email: `${sub}@example.test`, email_verified: true, name: sub.charAt(0).toUpperCase() + sub.slice(1) }),
      }),
      ttl: { AccessToken: () => settings.accessTokenTtl, Interaction: 600, Grant: 3600, Session: 3600, RefreshToken: 3600, IdToken: 3600 },
      pkce: { methods: ['S256'], required: () => true },
      clientBasedCORS: () => true,
      issueRefreshToken: async (_ctx, client) => settings.refreshTokens && client.grantTypeAllowed('refresh_token'),
      features: {
        devInteractions: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => {
            ctx.body = `<!doctype html><title>Sign out</title>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`;
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_AUDIENCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'openid email profile', audience: API_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: settings.accessTokenTtl }),
        },
      },
      // A first-party page: consent is given with the login, as a company's own provider would.
      async loadExistingGrant(ctx) {
        const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
        if (existing) return ctx.oidc.provider.Grant.find(existing);
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid email profile');
        grant.addResourceScope(API_AUDIENCE, 'openid email profile');
        await grant.save();
        return grant;
      },
    });
    provider.on('grant.success', (ctx) => grants.push(String((ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type)));
    handler = provider.callback();
  }

  return { issuer, settings, grants, start, close: () => closeServer(server) };
}
