import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Config } from '../config/config.js';
import { createWebhook } from '../processing/webhook.js';
import { powertoolsLog } from './powertools-log.js';
import { resolveWebhookSecret } from './webhook-secret.js';

/**
 * What the processor and the failure handler report an image's end through: Powertools logs and
 * metrics (by the processor's `service` dimension, which the dashboard reads), and the webhook,
 * its secret read at cold start. Built once per container.
 */
export async function lambdaReporting(defaultService: string, webhookConfig: Config['webhook']) {
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? defaultService });
  const webhook = await resolveWebhookSecret(webhookConfig);
  return {
    logger,
    webhook: webhook ? createWebhook({ ...webhook, logger: powertoolsLog(logger), attempts: 3 }) : undefined,
    metrics: new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ImageProcessor', serviceName: 'processor' }),
  };
}
