import type { Context, S3Event } from 'aws-lambda';
import { loadConfig } from '../config/config.js';
import { tuneSharp } from '../imaging/tuning.js';
import { idFromOriginalKey } from '../processing/keys.js';
import { createdKeys } from './s3-event.js';
import { awsRoot } from './aws-root.js';

// Built once per container: a bad configuration fails the cold start, loudly, instead of every image.
const config = loadConfig();
tuneSharp();
const root = awsRoot(config);
await root.checkStartUp();
const processor = root.processor();
const { logger, metrics, report } = await root.reporting('image-processor');

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
      const delivery = report.outcome(await processor.process(id));
      if (delivery) deliveries.push(delivery);
      logger.removeKeys(['imageId']);
    }
  } finally {
    metrics.publishStoredMetrics();
    await Promise.all(deliveries);
  }
}
