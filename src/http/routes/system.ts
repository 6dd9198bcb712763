import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { declareCommonErrors } from '../common-errors.js';
import { requireOperator } from '../operator.js';
import { WebhookEvent } from '../schemas.js';
import { acceptedNames, uploadTypes } from '../../formats/formats.js';
import { hasMark } from '../../imaging/watermark.js';

/** What the page asks for its sign-in: the scopes give it the name or email it shows. */
const SIGN_IN_SCOPE = 'openid email profile';

const SignIn = z
  .object({
    issuer: z.string().openapi({ description: 'The OpenID Connect issuer (OIDC_ISSUER).' }),
    clientId: z.string().openapi({ description: 'The public client the page signs in as (OIDC_CLIENT_ID), with the authorization code flow and PKCE.' }),
    scope: z.string().openapi({ example: SIGN_IN_SCOPE }),
  })
  .openapi('SignIn');

const getSignIn = createRoute({
  operationId: 'getSignIn',
  method: 'get',
  path: '/v1/sign-in',
  summary: 'How people sign in (the page reads it; no credentials needed)',
  responses: {
    200: { description: 'Sign-in is on: access tokens of this issuer are accepted as `Authorization: Bearer`.', content: { 'application/json': { schema: SignIn } } },
    204: { description: 'Sign-in is off on this server (API keys only, or no authentication).' },
  },
});

const UploadSettings = z
  .object({
    maxUploadBytes: z.number().int().openapi({ description: 'The largest file an upload takes (MAX_UPLOAD_BYTES).' }),
    acceptedTypes: z.array(z.string()).openapi({ description: 'The content types `POST /v1/uploads` takes.', example: ['image/jpeg', 'image/png'] }),
    acceptedFormats: z.string().openapi({ description: 'The accepted formats as a person reads them.', example: 'JPEG, PNG, WebP, AVIF, GIF, HEIC, TIFF, BMP' }),
    watermark: z.boolean().openapi({ description: 'This server has a watermark (WATERMARK_TEXT or WATERMARK_IMAGE): uploads get it unless they ask not to.' }),
  })
  .openapi('UploadSettings');

const getSettings = createRoute({
  operationId: 'getSettings',
  method: 'get',
  path: '/v1/settings',
  summary: 'What uploads this server takes (the page shows it before anyone chooses a file; no credentials needed)',
  responses: { 200: { description: 'The limits and the watermark.', content: { 'application/json': { schema: UploadSettings } } } },
});

export function registerSystemRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // Probes for operators (a load balancer, Prometheus), not operations of the API: outside its document.
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }, 200));

  app.get('/metrics', async (c) => {
    requireOperator(c, deps.config.metricsToken);
    const registry = deps.metrics.registry;
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });

  app.openAPIRegistry.registerWebhook({
    method: 'post',
    path: 'imageSettled',
    operationId: 'imageSettled',
    summary: 'An image reached done or failed (sent to WEBHOOK_URL)',
    request: { body: { content: { 'application/json': { schema: WebhookEvent } } } },
    responses: { 200: { description: 'Any 2xx acknowledges it; 429 and 5xx are retried with back-off.' } },
  });
  // The configuration does not change while the server runs: the answer is made once.
  const { config } = deps;
  const settings = { maxUploadBytes: config.maxUploadBytes, acceptedTypes: uploadTypes(config), acceptedFormats: acceptedNames(config), watermark: hasMark(config.watermark) };
  app.openapi(getSettings, (c) => c.json(settings, 200));
  app.openapi(getSignIn, (c) => {
    const oidc = deps.config.oidc;
    if (!oidc) return c.body(null, 204);
    return c.json({ issuer: oidc.issuer, clientId: oidc.clientId, scope: SIGN_IN_SCOPE }, 200);
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'SignedIn', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token of OIDC_ISSUER.' });
  const document = () =>
    declareCommonErrors(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'Serverless Image Processor',
          version: '1.0.0',
          description: 'Upload images; get resized, optionally watermarked variants back. Errors are RFC 9457 problem+json.',
          license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
        },
        // Relative: the API is wherever this document is served from.
        servers: [{ url: '/', description: 'This server' }],
        security: [{ ApiKey: [] }, { SignedIn: [] }],
      }),
    );
  app.get('/openapi.json', (c) => c.json(document()));
}
