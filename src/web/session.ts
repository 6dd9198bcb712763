import * as oauth from 'oauth4webapi';

/** What `GET /v1/sign-in` answers when the server takes sign-ins. */
export interface SignInSettings {
  issuer: string;
  clientId: string;
  scope: string;
}

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  name: string;
}

/** Tokens live in this tab's sessionStorage only: gone with the tab, never in localStorage. */
const TOKENS = 'image-processor.session';
/** The PKCE verifier, state and nonce of a sign-in under way. */
const PENDING = 'image-processor.sign-in';
/** Tokens are renewed this long before they expire. */
const RENEW_AHEAD_MS = 60_000;
/** The message a sign-in popup sends this page with the issuer's answer. */
const POPUP_MESSAGE = 'image-processor.signed-in';

export class SessionExpired extends Error {}

/** True in a sign-in popup of this page (reading a cross-origin opener's location throws). */
function openedBySamePage(): boolean {
  try {
    return Boolean(window.opener) && (window.opener as Window).location.origin === location.origin;
  } catch {
    return false;
  }
}

/** The page's own address, without query or fragment: the redirect URI registered with the issuer. */
const pageUrl = () => `${location.origin}${location.pathname}`;

const read = <T>(key: string): T | undefined => {
  const text = sessionStorage.getItem(key);
  return text ? (JSON.parse(text) as T) : undefined;
};

/**
 * Sign-in with OpenID Connect (authorization code flow with PKCE, oauth4webapi): a redirect to the
 * issuer when nothing would be lost, a popup when uploads are waiting; tokens renewed with the
 * refresh token before they expire; sign-out at the issuer's end-session (or Cognito's logout).
 */
export async function openSession(settings: SignInSettings, onChange: () => void) {
  const issuer = new URL(settings.issuer);
  // Plain http only for an issuer on this machine, as the server accepts it.
  const options = issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }));
  const client: oauth.Client = { client_id: settings.clientId };
  const auth = oauth.None();
  let tokens = read<Tokens>(TOKENS);
  let renewal: ReturnType<typeof setTimeout> | undefined;
  let waiting: (() => void)[] = [];
  /** True once a session of this tab ended without a sign-out (it expired, or the server refused it). */
  let expired = false;
  let failedSignIn = false;

  function keep(result: oauth.TokenEndpointResponse, previous?: Tokens) {
    const claims = oauth.getValidatedIdTokenClaims(result);
    const name = [claims?.name, claims?.email, claims?.preferred_username, claims?.sub].find((value): value is string => typeof value === 'string') ?? previous?.name ?? 'Signed in';
    const refreshToken = result.refresh_token ?? previous?.refreshToken;
    const idToken = result.id_token ?? previous?.idToken;
    expired = false;
    tokens = { accessToken: result.access_token, expiresAt: Date.now() + (result.expires_in ?? 300) * 1000, name, ...(refreshToken ? { refreshToken } : {}), ...(idToken ? { idToken } : {}) };
    sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
    scheduleRenewal();
    for (const resolve of waiting.splice(0)) resolve();
    onChange();
  }

  function scheduleRenewal() {
    clearTimeout(renewal);
    if (!tokens?.refreshToken) return;
    renewal = setTimeout(() => void renew().catch(() => undefined), Math.max(0, tokens.expiresAt - RENEW_AHEAD_MS - Date.now()));
  }

  /** One renewal at a time: a refresh token may be good for one use only (rotation). */
  let renewing: Promise<void> | undefined;
  const renew = () => (renewing ??= renewOnce().finally(() => (renewing = undefined)));

  async function renewOnce() {
    const current = tokens;
    if (!current?.refreshToken) throw new SessionExpired();
    try {
      const response = await oauth.refreshTokenGrantRequest(as, client, auth, current.refreshToken, options);
      keep(await oauth.processRefreshTokenResponse(as, client, response), current);
    } catch {
      forget();
      throw new SessionExpired();
    }
  }

  function forget() {
    if (tokens) expired = true;
    tokens = undefined;
    clearTimeout(renewal);
    sessionStorage.removeItem(TOKENS);
    onChange();
  }

  async function authorizationUrl(): Promise<URL> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce }));
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: settings.clientId,
      redirect_uri: pageUrl(),
      response_type: 'code',
      scope: settings.scope,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    }).toString();
    return url;
  }

  /** Trades the issuer's answer (`?code=...&state=...`) for tokens. */
  async function complete(answer: URLSearchParams) {
    const pending = read<{ verifier: string; state: string; nonce: string }>(PENDING);
    sessionStorage.removeItem(PENDING);
    if (!pending) throw new Error('This sign-in was not started here; sign in again.');
    const parameters = oauth.validateAuthResponse(as, client, answer, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, parameters, pageUrl(), pending.verifier, options);
    keep(await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true }));
  }

  // The issuer sent this tab (or this popup) back with an answer.
  const answer = new URLSearchParams(location.search);
  if (answer.has('state') && (answer.has('code') || answer.has('error'))) {
    history.replaceState(null, '', pageUrl());
    if (openedBySamePage()) {
      (window.opener as Window).postMessage({ type: POPUP_MESSAGE, answer: answer.toString() }, location.origin);
      window.close();
    } else {
      // A refused or stale answer (the issuer's error, a replayed code) leaves this tab signed out.
      await complete(answer).catch(() => (failedSignIn = true));
    }
  }
  window.addEventListener('message', (event) => {
    if (event.origin !== location.origin || (event.data as { type?: string })?.type !== POPUP_MESSAGE) return;
    void complete(new URLSearchParams((event.data as { answer: string }).answer)).catch(() => forget());
  });
  scheduleRenewal();

  return {
    get name() {
      return tokens?.name;
    },
    get signedIn() {
      return tokens !== undefined;
    },
    get expired() {
      return expired;
    },
    /** The issuer sent this tab back without a usable answer (refused, cancelled, or stale). */
    get failedSignIn() {
      return failedSignIn;
    },
    /** Drops tokens the server no longer takes. */
    expire: () => forget(),
    /** A valid access token, renewed first when it is about to expire; SessionExpired when only a new sign-in helps. */
    async accessToken(): Promise<string> {
      if (!tokens) throw new SessionExpired();
      if (tokens.expiresAt - Date.now() < RENEW_AHEAD_MS / 2) await renew();
      return tokens!.accessToken;
    },
    /** Resolves once someone signs in (again). */
    whenSignedIn: () => new Promise<void>((resolve) => waiting.push(resolve)),
    /** To the issuer in this tab: only when nothing on the page would be lost. */
    async signIn() {
      location.assign(await authorizationUrl());
    },
    /** In a popup, so the uploads waiting on this page stay; the popup hands the answer back. */
    async signInInPopup() {
      const popup = window.open('about:blank', 'image-processor-sign-in', 'popup,width=520,height=680');
      if (!popup) throw new Error('The sign-in window was blocked; allow pop-ups for this page.');
      popup.location.assign(await authorizationUrl());
    },
    signOut() {
      const idToken = tokens?.idToken;
      forget();
      waiting = [];
      if (as.end_session_endpoint) {
        const url = new URL(as.end_session_endpoint);
        url.search = new URLSearchParams({ client_id: settings.clientId, post_logout_redirect_uri: pageUrl(), ...(idToken ? { id_token_hint: idToken } : {}) }).toString();
        location.assign(url);
      } else if (as.authorization_endpoint && new URL(as.authorization_endpoint).hostname.endsWith('.amazoncognito.com')) {
        // Cognito publishes no end_session_endpoint; its hosted domain's /logout ends the session there.
        const url = new URL('/logout', as.authorization_endpoint);
        url.search = new URLSearchParams({ client_id: settings.clientId, logout_uri: pageUrl() }).toString();
        location.assign(url);
      } else {
        location.assign(pageUrl());
      }
    },
  };
}

export type Session = Awaited<ReturnType<typeof openSession>>;
