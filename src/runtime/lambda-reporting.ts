import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Config } from '../config/config.js';
import { webhookEvent } from '../http/image-view.js';
import type { Manifest } from '../processing/manifest.js';
import { createOutcomeReporter, type OutcomeMetrics } from '../processing/outcome-reporter.js';
import { createWebhook } from '../processing/webhook.js';
import { powertoolsLog } from './powertools-log.js';
import { resolveWebhookSecret } from './webhook-secret.js';

/** The outcome metrics as CloudWatch EMF, the names the dashboard and alarms read. */
function cloudWatchOutcomes(metrics: Metrics): OutcomeMetrics {
  return {
    done(outcome) {
      metrics.addMetric('ImagesProcessed', MetricUnit.Count, 1);
      metrics.addMetric('ProcessingDuration', MetricUnit.Milliseconds, outcome.durationMs);
      metrics.addMetric('OriginalBytes', MetricUnit.Bytes, outcome.originalBytes);
      metrics.addMetric('OutputBytes', MetricUnit.Bytes, outcome.outputBytes);
    },
    failed(code) {
      metrics.addMetric('ImagesFailed', MetricUnit.Count, 1);
      metrics.singleMetric().addDimension('errorCode', code).addMetric('ImagesFailedByCode', MetricUnit.Count, 1);
    },
  };
}

/**
 * What the processor and the failure handler report an image's end through: Powertools logs and
 * metrics (by the processor's `service` dimension, which the dashboard reads), and the webhook,
 * its secret read at cold start. Built once per container.
 */
export async function lambdaReporting(defaultService: string, webhookConfig: Config['webhook']) {
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? defaultService });
  const webhookSettings = await resolveWebhookSecret(webhookConfig);
  const webhook = webhookSettings ? createWebhook({ ...webhookSettings, logger: powertoolsLog(logger), attempts: 3 }) : undefined;
  const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ImageProcessor', serviceName: 'processor' });
  const report = createOutcomeReporter({
    log: powertoolsLog(logger),
    metrics: cloudWatchOutcomes(metrics),
    ...(webhook ? { notify: (manifest: Manifest) => webhook(manifest.id, webhookEvent(manifest)) } : {}),
  });
  return { logger, metrics, report };
}
