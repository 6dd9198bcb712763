import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ImageProcessorStack } from '../../infra/image-processor-stack.js';
import { readSettings } from '../../infra/settings.js';

/** A stand-in asset folder: the template's shape does not depend on the bundles inside it. */
const assetDir = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'asset-'));
  writeFileSync(join(dir, 'processor.mjs'), 'export const handler = () => {};');
  return dir;
})();

/** The feature flags of cdk.json, as `cdk synth` would apply them. */
const flags = (JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

function synth(context: Record<string, string> = {}) {
  const app = new App({ context: { ...flags, assetDir, ...context } });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  const stack = new ImageProcessorStack(app, 'Test', readSettings(app.node));
  const template = Template.fromStack(stack);
  return { app, stack, template, nag };
}

const { template, nag, app } = synth();
const resources = (type: string) => template.findResources(type);
const only = <T>(record: Record<string, T>): T => {
  const values = Object.values(record);
  expect(values).toHaveLength(1);
  return values[0]!;
};

/** The logical id of the bucket whose properties match. */
function bucketId(match: object): string {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: match }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}
const inputId = bucketId({ AccelerateConfiguration: { AccelerationStatus: 'Enabled' } });
const outputId = bucketId({ LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'GlacierInstantRetrieval' })]) } });

describe('CDK app', () => {
  it('passes cdk-nag AwsSolutions with every finding acknowledged by name', () => {
    const result = nag.validateScope(app);
    expect(result.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('makes every bucket private, TLS-only and encrypted', () => {
    const buckets = resources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    }
    for (const id of [inputId, outputId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('gives the input bucket CORS for direct PUTs, acceleration, request metrics, and aborts stale multipart uploads', () => {
    const input = template.toJSON().Resources[inputId].Properties;
    expect(input.CorsConfiguration.CorsRules[0]).toMatchObject({ AllowedMethods: ['PUT'], AllowedOrigins: ['*'] });
    expect(input.MetricsConfigurations).toEqual([{ Id: 'EntireBucket' }]);
    expect(input.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]);
    expect(input.LoggingConfiguration).toBeDefined();
  });

  it('moves outputs to Glacier Instant Retrieval after 90 days, and keeps everything without RETENTION_DAYS', () => {
    const rules = template.toJSON().Resources[outputId].Properties.LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] }));
    expect(JSON.stringify(rules)).not.toContain('ExpirationInDays');
  });

  it('expires originals and outputs after RETENTION_DAYS when set', () => {
    const withRetention = synth({ RETENTION_DAYS: '30' }).template;
    const buckets = Object.values(withRetention.findResources('AWS::S3::Bucket', { Properties: { MetricsConfigurations: Match.anyValue() } }));
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) {
      expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ ExpirationInDays: 30 }));
    }
  });

  it('runs the processor on Node.js 22, arm64, 512 MB, 5 minutes, with the SPEC variables even when empty', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'processor.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          VARIANTS: '',
          WATERMARK_TEXT: '',
          OUTPUT_FORMAT: '',
          QUALITY: '',
          MAX_INPUT_PIXELS: '',
          STORAGE: 's3',
          INPUT_BUCKET: { Ref: inputId },
          OUTPUT_BUCKET: { Ref: outputId },
          FONTCONFIG_PATH: '/var/task/fonts',
        }),
      },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });

  it('passes context values to the processor, and refuses bad ones at synth', () => {
    const custom = synth({ VARIANTS: 'small:64x64:cover', WATERMARK_TEXT: '© Me', architecture: 'x86_64' }).template;
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'processor.handler',
      Architectures: ['x86_64'],
      Environment: { Variables: Match.objectLike({ VARIANTS: 'small:64x64:cover', WATERMARK_TEXT: '© Me' }) },
    });
    expect(() => synth({ VARIANTS: 'foo' })).toThrow(/VARIANTS/);
    expect(() => synth({ QUALITY: '500' })).toThrow(/QUALITY/);
  });

  it('invokes the processor for objects created under originals/', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: inputId },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'originals/' }] } }, LambdaFunctionArn: Match.anyValue() },
        ],
      },
    });
  });

  it('lets the processor read the input bucket and read and write the output bucket, nothing more', () => {
    const processorRole = only(
      Object.fromEntries(
        Object.entries(resources('AWS::Lambda::Function'))
          .filter(([, fn]) => fn.Properties.Handler === 'processor.handler')
          .map(([id, fn]) => [id, fn.Properties.Role['Fn::GetAtt'][0] as string]),
      ),
    );
    const policy = only(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: processorRole }] } }));
    const statements = policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const writes = /^s3:(Put|Delete|Abort)/;
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement.Action);
      const resourceText = JSON.stringify(statement.Resource);
      const touchesInput = resourceText.includes(inputId);
      const touchesOutput = resourceText.includes(outputId);
      const touchesQueue = actions.every((a) => a.startsWith('sqs:'));
      expect(touchesInput || touchesOutput || touchesQueue, JSON.stringify(statement)).toBe(true);
      if (touchesInput) expect(actions.filter((a) => writes.test(a))).toEqual([]);
      expect(actions.every((a) => a.startsWith('s3:') || a === 'sqs:SendMessage')).toBe(true);
    }
    const allActions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
    expect(allActions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:DeleteObject*']));
  });

  it('serves the API through API Gateway with an API key, a usage plan and binary media types', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'] });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 10000, Period: 'DAY' },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'ANY', ApiKeyRequired: true });
    const methods = Object.values(resources('AWS::ApiGateway::Method'));
    const open = methods.filter((m) => m.Properties.ApiKeyRequired === false);
    // The page, its assets and /healthz; everything else needs the key.
    expect(open.map((m) => m.Properties.HttpMethod)).toEqual(['GET', 'GET', 'GET']);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'INVALID_API_KEY', StatusCode: '401' });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'api.handler', Runtime: 'nodejs22.x' });
  });

  it('keeps logs for the configured days and alarms on what goes wrong, to one SNS topic', () => {
    for (const group of Object.values(resources('AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(30);
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byMetric = (name: string) => alarms.find((a) => a.MetricName === name);
    expect(byMetric('Errors')).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1 });
    expect(byMetric('Throttles')).toMatchObject({ Namespace: 'AWS/Lambda' });
    expect(byMetric('Duration')).toMatchObject({ Threshold: 240_000, Statistic: 'Maximum' });
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toMatchObject({ Namespace: 'AWS/SQS' });
    expect(byMetric('5XXError')).toMatchObject({ Namespace: 'AWS/ApiGateway' });
    expect(byMetric('ProcessorTimeouts')).toMatchObject({ Namespace: 'ImageProcessor' });
    expect(byMetric('ProcessorOutOfMemory')).toMatchObject({ Namespace: 'ImageProcessor' });
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: Match.stringLikeRegexp('Task timed out'), MetricTransformations: [Match.objectLike({ MetricName: 'ProcessorTimeouts' })] });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ alarmEmail: 'ops@example.org' }).template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org' });
  });

  it('has a dashboard of the Powertools metrics and the AWS ones', () => {
    const dashboard = only(resources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['ImagesProcessed', 'ImagesFailed', 'ProcessingDuration', 'OutputBytes', 'Throttles', '5XXError', 'ApproximateNumberOfMessagesVisible']) {
      expect(body).toContain(metric);
    }
  });

  it('outputs the API URL and where to read the API key', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('ApiKeyId', { Description: Match.stringLikeRegexp('get-api-key') });
  });
});
