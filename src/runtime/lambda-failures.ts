import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../config/config.js';
import { idFromOriginalKey } from '../processing/keys.js';
import { markFailed } from '../processing/mark-failed.js';
import { failureOf, type FailureRecord } from './failure-record.js';
import { createdKeys } from './s3-event.js';
import { hasMark } from '../imaging/watermark.js';
import { awsRoot } from './aws-root.js';

const config = loadConfig();
const root = awsRoot(config);
const deps = { ...root.buckets, watermarkByDefault: hasMark(config.watermark) };
const { logger, metrics, report } = await root.reporting('image-processor-failures');

/**
 * The failure handler: each SQS message is the processor's on-failure invocation record (every
 * attempt was killed, timed out or threw). Each image it names is marked `failed` with a code, so
 * the page and the webhook see an end. A record for an image that already ended changes nothing; a
 * message whose manifest cannot be written is handed back to SQS to try again.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const deliveries: Promise<boolean>[] = [];
  for (const message of event.Records) {
    try {
      const record = JSON.parse(message.body) as FailureRecord;
      const error = failureOf(record);
      for (const key of record.requestPayload ? createdKeys(record.requestPayload) : []) {
        const id = idFromOriginalKey(key);
        if (!id) continue;
        const manifest = await markFailed(deps, id, error, { keepFinal: true });
        logger.warn('processor gave up', { imageId: id, code: error.code, condition: record.requestContext?.condition, errorType: record.responsePayload?.errorType, marked: Boolean(manifest) });
        const delivery = manifest && report.failure(manifest);
        if (delivery) deliveries.push(delivery);
      }
    } catch (error) {
      logger.error('could not record a failure', { messageId: message.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  metrics.publishStoredMetrics();
  await Promise.all(deliveries);
  return { batchItemFailures };
}
