import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, S3Event } from 'aws-lambda';
import { loadConfig } from '../config/config.js';
import { tuneSharp } from '../imaging/tuning.js';
import { idFromOriginalKey } from '../processing/keys.js';
import { createProcessor } from '../processing/processor.js';
import { createS3Client, createS3Store } from '../storage/s3-store.js';
import { lambdaReporting } from './lambda-reporting.js';
import { createdKeys } from './s3-event.js';

// Built once per container: a bad configuration fails the cold start, loudly, instead of every image.
const config = loadConfig();
tuneSharp();
const client = createS3Client(config.s3);
const processor = createProcessor({ input: createS3Store(client, config.inputBucket), output: createS3Store(client, config.outputBucket), config });
const { logger, webhook, metrics } = await lambdaReporting('image-processor', config.webhook);

/**
 * The processor Lambda: S3 ObjectCreated on `originals/`. A corrupt image ends as a failed manifest
 * (no retry can fix it); a storage error is thrown, so Lambda's async retries and then the
 * dead-letter queue take over. Repeated events are harmless: the processor skips finished work.
 */
export async function handler(event: S3Event, context?: Context): Promise<void> {
  if (context) logger.addContext(context);
  // Lambda freezes when the handler returns: deliveries are awaited, after the work is done.
  const deliveries: Promise<boolean>[] = [];
  try {
    for (const key of createdKeys(event)) {
      const id = idFromOriginalKey(key);
      if (!id) {
        logger.warn('ignored an object that is not an original', { key });
        continue;
      }
      logger.appendKeys({ imageId: id });
      const outcome = await processor.process(id);
      if (outcome.status !== 'skipped' && webhook) deliveries.push(webhook(outcome.manifest));
      if (outcome.status === 'skipped') {
        logger.info('skipped', { reason: outcome.reason });
      } else if (outcome.status === 'done') {
        metrics.addMetric('ImagesProcessed', MetricUnit.Count, 1);
        metrics.addMetric('ProcessingDuration', MetricUnit.Milliseconds, outcome.durationMs);
        metrics.addMetric('OriginalBytes', MetricUnit.Bytes, outcome.originalBytes);
        metrics.addMetric('OutputBytes', MetricUnit.Bytes, outcome.outputBytes);
        logger.info('processed', { status: 'done', durationMs: outcome.durationMs, variants: outcome.variants });
      } else {
        metrics.addMetric('ImagesFailed', MetricUnit.Count, 1);
        metrics.singleMetric().addDimension('errorCode', outcome.error.code).addMetric('ImagesFailedByCode', MetricUnit.Count, 1);
        logger.warn('processed', { status: 'failed', durationMs: outcome.durationMs, error: outcome.error });
      }
      logger.removeKeys(['imageId']);
    }
  } finally {
    metrics.publishStoredMetrics();
    await Promise.all(deliveries);
  }
}
