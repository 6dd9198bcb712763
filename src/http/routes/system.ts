import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { declareCommonErrors } from '../common-errors.js';
import { requireOperator } from '../operator.js';
import { WebhookEvent } from '../schemas.js';

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
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
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
        security: [{ ApiKey: [] }],
      }),
    );
  app.get('/openapi.json', (c) => c.json(document()));
}
