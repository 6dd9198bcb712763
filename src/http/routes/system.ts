import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { Health, WebhookEvent } from '../schemas.js';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness',
  responses: { 200: { description: 'Alive.', content: { 'application/json': { schema: Health } } } },
});

export function registerSystemRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));

  app.get('/metrics', async (c) => {
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
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Serverless Image Processor',
      version: '1.0.0',
      description: 'Upload images; get resized, optionally watermarked variants back. Errors are RFC 9457 problem+json.',
    },
    security: [{ ApiKey: [] }],
  });
}
