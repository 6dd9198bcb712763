import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { S3EventSourceV2 } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INDEX_PREFIX, ORIGINALS_PREFIX, PENDING_PREFIX } from '../src/processing/keys.js';
import { allowListing, allowObjects } from './bucket-access.js';
import { lambdaBasics, logRetention, secureQueue } from './lambda-code.js';
import type { Settings } from './settings.js';
import { readsSecretParameter } from './secret-parameter.js';

export const PROCESSOR_TIMEOUT = Duration.minutes(5);

/**
 * The processor Lambda, invoked by S3 for every object created under `originals/`. Failed
 * invocations are retried twice; then the S3 event lands in the dead-letter queue (for redrive) and
 * an invocation record in the failure queue (for the failure handler, which marks the image failed).
 * IAM: read originals, list and unlist them in the index, read and write the output bucket. It keeps
 * no dedup records on AWS (runtime/aws-root.ts says why), so it may not touch them.
 */
export class Processor extends Construct {
  readonly function: LambdaFunction;
  readonly deadLetterQueue: Queue;
  readonly failureQueue: Queue;
  readonly failureDeadLetterQueue: Queue;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: { settings: Settings; input: Bucket; output: Bucket }) {
    super(scope, id);
    const { settings, input, output } = props;

    this.deadLetterQueue = secureQueue(this, 'DeadLetterQueue');
    this.failureDeadLetterQueue = secureQueue(this, 'FailureDeadLetterQueue');
    this.failureQueue = secureQueue(this, 'FailureQueue', {
      // The failure handler's own retries; what it cannot record after five tries is kept aside.
      visibilityTimeout: Duration.minutes(3),
      deadLetterQueue: { queue: this.failureDeadLetterQueue, maxReceiveCount: 5 },
    });

    this.logGroup = new LogGroup(this, 'Logs', { retention: logRetention(settings.logRetentionDays) });
    this.function = new LambdaFunction(this, 'Function', {
      ...lambdaBasics(settings, { input, output }, 'processor'),
      description: 'Renders the variants of each new original and writes its manifest.',
      handler: 'processor.handler',
      memorySize: settings.processorMemoryMb,
      timeout: PROCESSOR_TIMEOUT,
      logGroup: this.logGroup,
      retryAttempts: 2,
      deadLetterQueueEnabled: true,
      deadLetterQueue: this.deadLetterQueue,
      onFailure: new SqsDestination(this.failureQueue),
    });

    readsSecretParameter(this.function, 'WEBHOOK_SECRET_PARAMETER', settings.webhookSecretParameter);
    allowListing(this.function, input);
    allowObjects(this.function, input, `${ORIGINALS_PREFIX}*`, ['s3:GetObject']);
    // Listing each original it processes in the index, and its pending marker (both removed if the image was deleted meanwhile).
    allowObjects(this.function, input, `${INDEX_PREFIX}*`, ['s3:PutObject', 's3:DeleteObject']);
    allowObjects(this.function, input, `${PENDING_PREFIX}*`, ['s3:PutObject', 's3:DeleteObject']);
    allowListing(this.function, output);
    allowObjects(this.function, output, '*', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    this.function.addEventSource(new S3EventSourceV2(input, { events: [EventType.OBJECT_CREATED], filters: [{ prefix: ORIGINALS_PREFIX }] }));
  }
}
