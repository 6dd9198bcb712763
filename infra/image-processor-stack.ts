import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './api.js';
import { Buckets } from './buckets.js';
import { Failures } from './failures.js';
import { Monitoring } from './monitoring.js';
import { acknowledgeFindings } from './nag-acknowledgements.js';
import { PROCESSOR_TIMEOUT, Processor } from './processor.js';
import type { Settings } from './settings.js';

/** The deployment: the buckets, the processor on S3 events, the API behind API Gateway, and their monitoring. */
export class ImageProcessorStack extends Stack {
  constructor(scope: Construct, id: string, settings: Settings, props: StackProps = {}) {
    super(scope, id, props);
    const buckets = new Buckets(this, 'Buckets', settings);
    const processor = new Processor(this, 'Processor', { settings, input: buckets.input, output: buckets.output });
    const failures = new Failures(this, 'Failures', { settings, input: buckets.input, output: buckets.output, queue: processor.failureQueue });
    const api = new Api(this, 'Api', { settings, input: buckets.input, output: buckets.output });
    const monitoring = new Monitoring(this, 'Monitoring', {
      processor: processor.function,
      processorLogs: processor.logGroup,
      processorTimeout: PROCESSOR_TIMEOUT,
      deadLetterQueue: processor.deadLetterQueue,
      failureDeadLetterQueue: processor.failureDeadLetterQueue,
      api: api.restApi,
      apiFunction: api.function,
      authorizerFunction: api.authorizerFunction,
      clientErrorsPerFiveMinutes: settings.clientErrorsPerFiveMinutes,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
      overuseImagesPerHour: settings.overuseImagesPerHour,
      overuseApiRequestsPerHour: settings.overuseApiRequestsPerHour,
    });

    acknowledgeFindings(this, [processor.function, failures.function, api.function, api.authorizerFunction], api.restApi);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The functions run on Node.js 22, the newest Lambda runtime; the code must also run on the Node 20 of the build machines.',
    });

    new CfnOutput(this, 'ApiUrl', { value: api.restApi.url, description: 'The web page and the API (append v1/images).' });
    new CfnOutput(this, 'ApiKeyId', {
      value: api.apiKey.keyId,
      description: 'The first machine key; read it with: aws apigateway get-api-key --include-value --query value --output text --api-key <this id>',
    });
    new CfnOutput(this, 'MachineKeysUsagePlanId', {
      value: api.machinePlan.usagePlanId,
      description: 'Machine keys: npx image-processor keys create --name NAME --usage-plan <this id>',
    });
    new CfnOutput(this, 'UserPoolId', {
      value: api.signIn.userPool.userPoolId,
      description: 'Add a person: aws cognito-idp admin-create-user --user-pool-id <this id> --username their@email',
    });
    new CfnOutput(this, 'UserPoolClientId', { value: api.signIn.client.userPoolClientId, description: 'The page\'s public client.' });
    new CfnOutput(this, 'SignInDomain', { value: api.signIn.domain.baseUrl(), description: 'Cognito\'s hosted sign-in pages.' });
    new CfnOutput(this, 'InputBucketName', { value: buckets.input.bucketName });
    new CfnOutput(this, 'OutputBucketName', { value: buckets.output.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: processor.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ProcessorFunctionName', { value: processor.function.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn, description: 'Subscribe here for alarms (or deploy with -c alarmEmail=...).' });
  }
}
