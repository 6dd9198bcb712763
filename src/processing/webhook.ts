import { createHmac } from 'node:crypto';
import type { Log } from '../logging.js';

export interface WebhookOptions {
  url: string;
  /** Signs each body: `X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
  secret?: string;
  logger: Log;
  attempts?: number;
  firstDelayMs?: number;
  timeoutMs?: number;
}

/**
 * Completion webhook: POSTs a body about one image (see http/image-view.ts, webhookEvent), signed,
 * retried with back-off on network errors, 429 and 5xx. The returned promise settles when the
 * delivery ends, but nothing waits on it locally, so a slow receiver never holds up processing.
 */
export function createWebhook({ url, secret, logger, attempts = 5, firstDelayMs = 500, timeoutMs = 10_000 }: WebhookOptions) {
  return async function deliver(id: string, event: unknown): Promise<boolean> {
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'image-processor-webhook' };
    if (secret) headers['x-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        if (response.ok) return true;
        if (response.status !== 429 && response.status < 500) {
          logger.warn({ id, status: response.status }, 'webhook refused');
          return false;
        }
      } catch {
        // A network error or a timeout: worth another try.
      }
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** (attempt - 1)));
    }
    logger.warn({ id, attempts }, 'webhook gave up');
    return false;
  };
}
