import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { AppError } from '../errors.js';
import { createAuthenticator } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';
import { clientAddress } from './client-address.js';
import { createCallerShares, createRateLimiter, limitUploads } from './overload.js';
import { problemResponse, toAppError } from './problem.js';
import { isSignedDownload, registerDownloadRoutes } from './routes/downloads.js';
import { registerImageRoutes } from './routes/images.js';
import { registerRenderRoutes } from './routes/renders.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerUploadRoutes } from './routes/uploads.js';
import { registerWebRoutes } from './routes/web.js';

/** JSON bodies are small requests (an upload ticket's ask is a few hundred bytes): past this, 413. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** Paths with no API key: the page, its assets, its sign-in and upload settings, liveness, the API's description; /metrics checks its operator itself. */
const isOpenPath = (path: string) => path === '/' || path === '/v1/sign-in' || path === '/v1/settings' || path === '/healthz' || path === '/openapi.json' || path === '/metrics' || path.startsWith('/assets/');

/** The owner sealed in a valid upload URL (none when the URL is not valid: the route refuses it). */
function uploaderOf(deps: AppDeps, url: string): { id: string } | undefined {
  const owner = deps.delivery.acceptUpload(new URL(url))?.owner;
  return owner ? { id: owner } : undefined;
}

/**
 * The HTTP API v1, the same on Node and on Lambda: the runtime hands in the stores, signer, logger
 * and metrics, and gets a fetch handler back.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const detail = result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
        throw new AppError(400, 'invalid_request', detail);
      }
    },
  });
  const authenticate = createAuthenticator({ ...deps.config, ...(deps.keyFile ? { keyFile: deps.keyFile } : {}) });
  const limiter = createRateLimiter(deps.config);

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    deps.metrics.requests.inc({ method: c.req.method, status: String(status) });
    const id = /^\/v1\/(?:images|uploads)\/([^/]+)/.exec(c.req.path)?.[1] ?? c.res.headers.get('location')?.split('/').pop();
    // Reads that went well are status polls and downloads, many a second per client: debug, so the
    // info log keeps what changes something and what fails (and a log line costs a fifth of a poll).
    const quiet = (c.req.method === 'GET' || c.req.method === 'HEAD') && status < 400;
    // The path only: query strings carry signatures, which never go to the log.
    deps.logger[quiet ? 'debug' : 'info'](
      { method: c.req.method, path: c.req.path, status, durationMs: Math.round(performance.now() - started), ...(id ? { id } : {}), ...(c.get('stages') ? { stages: c.get('stages') } : {}) },
      'request',
    );
  });

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('x-content-type-options', 'nosniff');
    c.res.headers.set('referrer-policy', 'no-referrer');
    // API answers carry signed links and change from one request to the next: no cache keeps them.
    if (c.req.path.startsWith('/v1/') && /json/i.test(c.res.headers.get('content-type') ?? '')) c.res.headers.set('cache-control', 'no-store');
  });

  if (deps.config.corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        // `*` means any origin (the API key or bearer token, not a cookie, is what authenticates).
        origin: deps.config.corsOrigins.includes('*') ? '*' : deps.config.corsOrigins,
        allowHeaders: ['x-api-key', 'authorization', 'content-type', 'idempotency-key'],
        allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
        exposeHeaders: ['etag', 'location', 'retry-after'],
        maxAge: 600,
      }),
    );
  }

  app.use('*', async (c, next) => {
    const { method, path } = c.req;
    const signed = new URL(c.req.url).searchParams.has('sig');
    const directUpload = method === 'PUT' && path.startsWith('/v1/uploads/');
    const exempt = method === 'OPTIONS' || isOpenPath(path) || isSignedDownload(method, path, signed) || directUpload;
    // Behind API Gateway the caller was checked there; locally, here. A wrong key or token costs its
    // address a token. A direct upload is the owner's that minted its URL: it draws on that owner's share.
    try {
      const credentials = { authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key') };
      c.set('owner', directUpload ? uploaderOf(deps, c.req.url) : exempt ? undefined : deps.identify ? deps.identify(c) : await authenticate(credentials));
    } catch (error) {
      limiter.take(`address:${clientAddress(c)}`);
      throw error;
    }
    await next();
  });
  const jsonLimit = bodyLimit({
    maxSize: JSON_BODY_LIMIT,
    onError: () => {
      throw new AppError(413, 'too_large', `A JSON body may be at most ${JSON_BODY_LIMIT} bytes.`);
    },
  });
  // Counted as it streams, declared length or not: a JSON body is read into memory whole.
  app.use('*', (c, next) => (/json/i.test(c.req.header('content-type') ?? '') ? jsonLimit(c, next) : next()));
  app.use('*', limiter.middleware);
  const shares = createCallerShares(deps.config.maxUploadsPerKey, {
    perCaller: deps.config.maxWaitingUploadsPerKey,
    total: deps.config.maxConcurrentUploads,
    ms: deps.config.uploadSlotWaitMs,
  });
  app.use('*', limitUploads(deps.config, shares, deps.queueDepth));

  registerImageRoutes(app, deps, shares);
  registerUploadRoutes(app, deps);
  registerDownloadRoutes(app, deps);
  registerRenderRoutes(app, deps);
  registerSystemRoutes(app, deps);
  if (deps.webRoot) registerWebRoutes(app, deps.webRoot);

  // A refused upload may still be arriving: the runtime reads the rest of it (within a bound) so
  // the client, still sending, reads this answer (runtime/drain-refused.ts).
  app.onError((error, c) => problemResponse(toAppError(error, deps.logger, c)));
  app.notFound((c) => problemResponse(new AppError(404, 'not_found', `There is no ${c.req.method} ${c.req.path}.`)));
  return app;
}
