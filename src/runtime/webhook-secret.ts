import type { Config } from '../config/config.js';
import { readSecretParameter } from './read-ssm-secret.js';

/** The webhook settings with their secret in hand: on AWS it is read from its SSM parameter. */
export async function resolveWebhookSecret(webhook: Config['webhook']): Promise<Config['webhook']> {
  if (!webhook?.secretParameter) return webhook;
  return { url: webhook.url, secret: await readSecretParameter(webhook.secretParameter, 'WEBHOOK_SECRET_PARAMETER') };
}
