import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ORIGINALS_PREFIX, PENDING_PREFIX } from '../src/processing/keys.js';
import { allowListing, allowObjects } from './bucket-access.js';
import { lambdaBasics, logRetention } from './lambda-code.js';
import type { Settings } from './settings.js';
import { readsSecretParameter } from './secret-parameter.js';

/**
 * The failure handler: reads the processor's on-failure invocation records (every attempt was
 * killed, timed out or threw) and marks each image `failed` with a code, so nothing stays
 * `processing`. IAM: read originals, read and write manifests (and delete one it wrote for a deleted image), nothing else.
 */
export class Failures extends Construct {
  readonly function: LambdaFunction;

  constructor(scope: Construct, id: string, props: { settings: Settings; input: Bucket; output: Bucket; queue: Queue }) {
    super(scope, id);
    const { settings, input, output, queue } = props;
    this.function = new LambdaFunction(this, 'Function', {
      ...lambdaBasics(settings, { input, output }, 'failures'),
      description: 'Marks images failed when every processor attempt failed.',
      handler: 'failures.handler',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logGroup: new LogGroup(this, 'Logs', { retention: logRetention(settings.logRetentionDays) }),
    });
    readsSecretParameter(this.function, 'WEBHOOK_SECRET_PARAMETER', settings.webhookSecretParameter);
    this.function.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
    allowListing(this.function, input);
    allowObjects(this.function, input, `${ORIGINALS_PREFIX}*`, ['s3:GetObject']);
    // The failure it records ends the image's work: its pending marker goes.
    allowObjects(this.function, input, `${PENDING_PREFIX}*`, ['s3:DeleteObject']);
    allowListing(this.function, output);
    // Deleting only the manifest it wrote for an image deleted meanwhile (see mark-failed.ts).
    allowObjects(this.function, output, '*/manifest.json', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
  }
}
