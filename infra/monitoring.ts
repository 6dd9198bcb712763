import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type LogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { metricsNamespace } from './lambda-code.js';

const PERIOD = Duration.minutes(5);
const HOUR = Duration.hours(1);

export interface MonitoringProps {
  processor: LambdaFunction;
  processorLogs: LogGroup;
  processorTimeout: Duration;
  deadLetterQueue: Queue;
  failureDeadLetterQueue: Queue;
  api: RestApi;
  apiFunction: LambdaFunction;
  authorizerFunction: LambdaFunction;
  alarmEmail?: string;
  clientErrorsPerFiveMinutes: number;
  overuseImagesPerHour: number;
  overuseApiRequestsPerHour: number;
}

/**
 * Alarms to one SNS topic (errors, throttles, duration near the timeout, timeouts and out-of-memory
 * from the logs, dead letters, API 5xx, overuse) and a dashboard of what the service does. Names
 * and metrics carry the stack's name, so two stacks in one account keep apart.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', { displayName: 'Image processor alarms', enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const stack = Stack.of(this);
    const namespace = metricsNamespace(this);
    // enforceSSL's policy replaces SNS's default one, which let CloudWatch publish: say so again,
    // for this account's alarms of this stack only.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarms',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${stack.stackName}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    /** What the processor reports through Powertools Metrics (EMF), by the `service` dimension it adds. */
    const appMetric = (metricName: string, statistic = 'Sum', label?: string) =>
      new Metric({ namespace, metricName, dimensionsMap: { service: 'processor' }, statistic, period: PERIOD, ...(label ? { label } : {}) });

    const logCount = (name: string, pattern: string[]) => {
      new MetricFilter(this, `${name}Filter`, {
        logGroup: props.processorLogs,
        filterPattern: FilterPattern.anyTerm(...pattern),
        metricNamespace: namespace,
        metricName: name,
        metricValue: '1',
        defaultValue: 0,
      });
      return new Metric({ namespace, metricName: name, statistic: 'Sum', period: PERIOD });
    };
    const timeouts = logCount('ProcessorTimeouts', ['Task timed out']);
    const outOfMemory = logCount('ProcessorOutOfMemory', ['Runtime.OutOfMemory', 'signal: killed', 'JavaScript heap out of memory']);

    const alarm = (name: string, metric: IMetric, threshold: number, description: string, comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) => {
      const created = new Alarm(this, name, {
        // The topic's policy admits this stack's alarms by this prefix.
        alarmName: `${stack.stackName}-${name}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    alarm('ProcessorErrors', props.processor.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, 'The processor Lambda failed; S3 events are retried, then dead-lettered.');
    alarm('ProcessorThrottles', props.processor.metricThrottles({ period: PERIOD, statistic: 'Sum' }), 1, 'The processor Lambda was throttled.');
    alarm(
      'ProcessorDurationNearTimeout',
      props.processor.metricDuration({ period: PERIOD, statistic: 'Maximum' }),
      props.processorTimeout.toMilliseconds() * 0.8,
      'A processor run took over 80% of its timeout.',
    );
    alarm('ProcessorTimedOut', timeouts, 1, 'A processor run hit the Lambda timeout ("Task timed out").');
    alarm('ProcessorOutOfMemory', outOfMemory, 1, 'A processor run ran out of memory.');
    alarm('DeadLetters', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 1, 'Events that failed every retry are waiting in the dead-letter queue.');
    alarm('FailureDeadLetters', props.failureDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 1, 'The failure handler could not mark some images failed; they may show as processing.');
    const overuse = [
      ['OveruseImages', props.processor.metricInvocations({ period: HOUR, statistic: 'Sum' }), props.overuseImagesPerHour, 'processor runs', 'overuseImagesPerHour'],
      ['OveruseApiRequests', props.api.metricCount({ period: HOUR, statistic: 'Sum' }), props.overuseApiRequestsPerHour, 'API requests', 'overuseApiRequestsPerHour'],
    ] as const;
    for (const [name, metric, limit, what, context] of overuse) {
      alarm(name, metric, limit, `More than ${limit} ${what} in an hour (-c ${context}=).`, ComparisonOperator.GREATER_THAN_THRESHOLD);
    }
    alarm('Api5xx', props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }), 1, 'The API answered with a 5xx.');
    // Refusals and throttling (429s are 4XX): a surge is an attack, a broken client, or limits too low for the use.
    alarm(
      'Api4xxSurge',
      props.api.metricClientError({ period: PERIOD, statistic: 'Sum' }),
      props.clientErrorsPerFiveMinutes,
      `More than ${props.clientErrorsPerFiveMinutes} refused or throttled API requests (4XX) in five minutes (-c clientErrorsPerFiveMinutes=).`,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm('AuthorizerErrors', props.authorizerFunction.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, 'The authorizer failed (the user pool\'s keys could not be read?): requests got 503.');

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({ title: 'Images', left: [appMetric('ImagesProcessed', 'Sum', 'done'), appMetric('ImagesFailed', 'Sum', 'failed')], width: 8 }),
          new GraphWidget({
            title: 'Processing time (ms)',
            left: [appMetric('ProcessingDuration', 'p50', 'p50'), appMetric('ProcessingDuration', 'p95', 'p95'), props.processor.metricDuration({ statistic: 'Maximum', period: PERIOD })],
            width: 8,
          }),
          new GraphWidget({ title: 'Bytes', left: [appMetric('OriginalBytes', 'Sum', 'originals'), appMetric('OutputBytes', 'Sum', 'outputs')], width: 8 }),
        ],
        [
          new GraphWidget({
            title: 'Processor Lambda',
            left: [props.processor.metricInvocations({ period: PERIOD }), props.processor.metricErrors({ period: PERIOD }), props.processor.metricThrottles({ period: PERIOD })],
            right: [timeouts, outOfMemory],
            width: 8,
          }),
          new GraphWidget({
            title: 'API',
            left: [props.api.metricCount({ period: PERIOD }), props.api.metricClientError({ period: PERIOD }), props.api.metricServerError({ period: PERIOD })],
            right: [props.api.metricLatency({ period: PERIOD, statistic: 'p95' })],
            width: 8,
          }),
          new GraphWidget({
            title: 'Dead letters',
            left: [
              props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'S3 events' }),
              props.failureDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'failure records' }),
            ],
            width: 8,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
