import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { S3EventSourceV2 } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lambdaBasics, logRetention } from './lambda-code.js';
import type { Settings } from './settings.js';

export const PROCESSOR_TIMEOUT = Duration.minutes(5);

/**
 * The processor Lambda, invoked by S3 for every object created under `originals/`. Failed
 * invocations are retried twice, then land in the dead-letter queue. IAM: read the input bucket,
 * read and write the output bucket, nothing more.
 */
export class Processor extends Construct {
  readonly function: LambdaFunction;
  readonly deadLetterQueue: Queue;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: { settings: Settings; input: Bucket; output: Bucket }) {
    super(scope, id);
    const { settings, input, output } = props;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.logGroup = new LogGroup(this, 'Logs', { retention: logRetention(settings.logRetentionDays) });
    this.function = new LambdaFunction(this, 'Function', {
      ...lambdaBasics(settings, { input, output }, 'processor'),
      description: 'Renders the variants of each new original and writes its manifest.',
      handler: 'processor.handler',
      memorySize: 512,
      timeout: PROCESSOR_TIMEOUT,
      logGroup: this.logGroup,
      retryAttempts: 2,
      deadLetterQueueEnabled: true,
      deadLetterQueue: this.deadLetterQueue,
    });

    input.grantRead(this.function);
    output.grantReadWrite(this.function);
    this.function.addEventSource(new S3EventSourceV2(input, { events: [EventType.OBJECT_CREATED], filters: [{ prefix: 'originals/' }] }));
  }
}
