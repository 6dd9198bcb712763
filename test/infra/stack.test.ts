import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bucketIds, synth } from '../helpers/aws/synth.js';
import { templateIam, type CfnTemplate } from '../helpers/aws/template-iam.js';

const { template, nag, app } = synth();
const resources = (type: string) => template.findResources(type);
const only = <T>(record: Record<string, T>): T => {
  const values = Object.values(record);
  expect(values).toHaveLength(1);
  return values[0]!;
};

const { input: inputId, output: outputId } = bucketIds(template);

describe('CDK app', () => {
  it('passes cdk-nag AwsSolutions with every finding acknowledged by name', () => {
    for (const built of [{ nag, app }, synth({ WEBHOOK_URL: 'https://hooks.example.org/images', webhookSecretParameter: '/image-processor/webhook-secret' })]) {
      const result = built.nag.validateScope(built.app);
      expect(result.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
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
    // The page's "Download all" fetches each variant from its presigned URL to build the ZIP.
    const output = template.toJSON().Resources[outputId].Properties;
    expect(output.CorsConfiguration.CorsRules[0]).toMatchObject({ AllowedMethods: expect.arrayContaining(['GET']), AllowedOrigins: ['*'] });
    expect(input.MetricsConfigurations).toEqual([{ Id: 'EntireBucket' }]);
    expect(input.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
      // Idempotency records answer for 24 hours; dedup records are a cache.
      { Id: 'IdempotencyRecords', Prefix: 'idempotency/', ExpirationInDays: 2, Status: 'Enabled' },
      { Id: 'DedupRecords', Prefix: 'dedup/', ExpirationInDays: 30, Status: 'Enabled' },
      // The processor and the failure handler remove pending markers; one a crash left behind goes.
      { Id: 'PendingMarkers', Prefix: 'pending/', ExpirationInDays: 15, Status: 'Enabled' },
    ]);
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

  it('runs the processor on Node.js 22, arm64, 512 MB, 5 minutes, with every setting variable even when empty', () => {
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

  it('ships a logo (-c WATERMARK_IMAGE=) to every function in a layer, checked at synth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logo-'));
    try {
      await writeFile(join(dir, 'logo.png'), await sharp({ create: { width: 40, height: 20, channels: 4, background: '#f008' } }).png().toBuffer());
      await writeFile(join(dir, 'logo.jpg'), await sharp({ create: { width: 40, height: 20, channels: 3, background: '#f00' } }).jpeg().toBuffer());
      const custom = synth({ WATERMARK_IMAGE: join(dir, 'logo.png'), WATERMARK_SCALE: '0.25' }).template;
      custom.resourceCountIs('AWS::Lambda::LayerVersion', 1);
      const all = Object.values(custom.findResources('AWS::Lambda::Function')) as { Properties: { Handler: string; Layers?: unknown[]; Environment: { Variables: Record<string, string> } } }[];
      const functions = all.filter((fn) => ['processor.handler', 'api.handler', 'failures.handler'].includes(fn.Properties.Handler));
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(fn.Properties.Layers).toHaveLength(1);
        expect(fn.Properties.Environment.Variables).toMatchObject({ WATERMARK_IMAGE: '/opt/watermark/logo.png', WATERMARK_SCALE: '0.25' });
      }
      expect(() => synth({ WATERMARK_IMAGE: join(dir, 'logo.jpg') })).toThrow(/WATERMARK_IMAGE=.*expected a PNG, WebP or SVG/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('carries a presets file (-c VARIANTS_FILE=) in the deployment, checked at synth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'presets-'));
    try {
      const presets = { variants: [{ name: 'card', width: 400, height: 300, formats: ['webp'], blur: 2 }] };
      await writeFile(join(dir, 'good.json'), JSON.stringify(presets, null, 2));
      await writeFile(join(dir, 'bad.json'), JSON.stringify({ variants: [{ name: 'card', width: 400 }] }));
      synth({ VARIANTS_FILE: join(dir, 'good.json') }).template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'processor.handler',
        Environment: { Variables: Match.objectLike({ VARIANTS_JSON: JSON.stringify(presets), VARIANTS: '' }) },
      });
      expect(() => synth({ VARIANTS_FILE: join(dir, 'bad.json') })).toThrow(/VARIANTS_JSON.*variants\.0\.height/);
      expect(() => synth({ VARIANTS_FILE: join(dir, 'missing.json') })).toThrow(/VARIANTS_FILE/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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

  it('grants each function named S3 actions only, never a family (legal holds, retention, version deletes)', () => {
    const actions = Object.values(resources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((statement) => ([] as string[]).concat(statement.Action)),
    );
    const s3 = [...new Set(actions.filter((a) => a.startsWith('s3:')))].sort();
    expect(s3).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutBucketNotification', 's3:PutObject']);
  });

  it('sends what failed every attempt to the dead-letter queue and, as a record, to the failure handler', () => {
    const queues = resources('AWS::SQS::Queue');
    const failureQueue = Object.keys(queues).find((id) => id.startsWith('ProcessorFailureQueue'))!;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failureQueue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'processor.handler', DeadLetterConfig: { TargetArn: Match.anyValue() } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [failureQueue, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'failures.handler', Runtime: 'nodejs22.x' });
    // What the failure handler cannot record after five tries waits in a queue of its own.
    expect(queues[failureQueue]!.Properties.RedrivePolicy).toMatchObject({ maxReceiveCount: 5 });
  });

  it('takes the processor\'s memory from context, and keeps WEBHOOK_SECRET out of the template', () => {
    synth({ processorMemoryMb: '1024' }).template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'processor.handler', MemorySize: 1024 });
    expect(() => synth({ processorMemoryMb: '64' })).toThrow(/processorMemoryMb/);
    expect(() => synth({ WEBHOOK_SECRET: 'a secret of some length' })).toThrow(/webhookSecretParameter/);
    expect(JSON.stringify(template.toJSON())).not.toContain('WEBHOOK_SECRET"');
  });

  it('serves the API through API Gateway: every API method through the authorizer and a usage plan, binary media types', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'], ApiKeySourceType: 'AUTHORIZER' });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'ANY', ApiKeyRequired: true, AuthorizationType: 'CUSTOM' });
    const methods = Object.values(resources('AWS::ApiGateway::Method'));
    // Every method reaches the function: no MOCK without an answer (addProxy puts one on /).
    for (const method of methods) expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['ANY', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET']);
    const open = methods.filter((m) => m.Properties.ApiKeyRequired === false);
    // The page, its assets, /healthz, the sign-in and upload settings and signed render links; everything else needs a user or a key.
    expect(open.map((m) => m.Properties.HttpMethod)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET', 'GET']);
    for (const method of open) expect(method.Properties.AuthorizationType).toBe('NONE');
    const paths = Object.values(resources('AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(paths).toEqual(expect.arrayContaining(['v1', 'sign-in', 'settings', 'renders', '{id}', '{name}', '{proxy+}']));
    // Nothing under /v1 but the render links and the two settings: /v1/images and the rest stay with the greedy proxy.
    expect(paths).not.toContain('images');
    // A key API Gateway does not know is told so, in the words the local server uses.
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'INVALID_API_KEY', StatusCode: '401', ResponseTemplates: { 'application/json': Match.stringLikeRegexp('This key is not valid') } });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'REQUEST_TOO_LARGE',
      StatusCode: '413',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('POST /v1/uploads') },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'api.handler', Runtime: 'nodejs22.x' });
  });

  it('signs people in with a Cognito user pool: email, no self sign-up, a public code-flow client for the page, a hosted domain', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    const [client] = Object.values(resources('AWS::Cognito::UserPoolClient')).map((c) => c.Properties);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    // The callback and sign-out address is the page: the API's own address, at its stage.
    const page = { 'Fn::Join': ['', ['https://', { Ref: expect.stringMatching(/^ApiRestApi[0-9A-F]{8}$/) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/prod/']] };
    expect(client.CallbackURLs).toEqual([page]);
    expect(client.LogoutURLs).toEqual([page]);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasOutput('UserPoolId', { Description: Match.stringLikeRegexp('admin-create-user') });
    template.hasOutput('SignInDomain', {});
    // Self sign-up only when asked for.
    synth({ selfSignUp: 'true' }).template.hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: false } });
    expect(() => synth({ selfSignUp: 'yes' })).toThrow(/selfSignUp must be true or false/);
  });

  it('authorises with a Lambda authorizer that sees every request (no cache, no identity source) and reads only the users\' key', () => {
    const [authorizer] = Object.values(resources('AWS::ApiGateway::Authorizer')).map((a) => a.Properties);
    expect(authorizer).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(authorizer.IdentitySource).toBeUndefined();
    const functions = Object.values(resources('AWS::Lambda::Function')).map((f) => f.Properties);
    const fn = functions.find((f) => f.Handler === 'authorizer.handler')!;
    const usersKey = Object.entries(resources('AWS::ApiGateway::ApiKey')).find(([, key]) => /signed-in users/.test(key.Properties.Description))![0];
    expect(fn.Environment.Variables).toMatchObject({ USERS_API_KEY_ID: { Ref: usersKey }, OIDC_ISSUER: expect.anything(), OIDC_CLIENT_ID: expect.anything() });
    // The API function knows the pool (for the page) and the users' key (never an owner).
    const api = functions.find((f) => f.Handler === 'api.handler')!;
    expect(api.Environment.Variables).toMatchObject({ USERS_API_KEY_ID: { Ref: usersKey }, OIDC_ISSUER: expect.anything(), OIDC_CLIENT_ID: expect.anything(), RATE_LIMIT_PER_MINUTE: '300' });
    // The authorizer's role reads that one key, nothing else of API Gateway.
    const policies = Object.values(resources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('AuthorizerFunction'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'apigateway:GET', Effect: 'Allow', Resource: { 'Fn::Join': ['', expect.arrayContaining([':apigateway:', '::/apikeys/', { Ref: usersKey }])] } }]);
  });

  it('puts no quota on signed-in users: their plan throttles them, while each machine key has its own throttle and quota', () => {
    const plans = Object.entries(resources('AWS::ApiGateway::UsagePlan'));
    expect(plans).toHaveLength(2);
    const keysOf = (planId: string) =>
      Object.values(resources('AWS::ApiGateway::UsagePlanKey'))
        .filter((k) => k.Properties.UsagePlanId.Ref === planId)
        .map((k) => k.Properties.KeyId.Ref);
    const [usersPlanId, usersPlan] = plans.find(([, p]) => /signed-in/.test(p.Properties.UsagePlanName['Fn::Join']?.[1]?.join('') ?? p.Properties.UsagePlanName))!;
    const [machinePlanId, machinePlan] = plans.find(([id]) => id !== usersPlanId)!;
    expect(usersPlan.Properties.Quota).toBeUndefined();
    expect(usersPlan.Properties.Throttle).toEqual({ RateLimit: 50, BurstLimit: 100 });
    expect(machinePlan.Properties).toMatchObject({ Throttle: { RateLimit: 20, BurstLimit: 40 }, Quota: { Limit: 10000, Period: 'DAY' } });
    const usersKeys = keysOf(usersPlanId);
    expect(usersKeys).toHaveLength(1);
    // The key the authorizer hands over for people is in the users' plan only.
    const authorizer = Object.values(resources('AWS::Lambda::Function')).find((f) => f.Properties.Handler === 'authorizer.handler')!;
    expect(usersKeys[0]).toBe(authorizer.Properties.Environment.Variables.USERS_API_KEY_ID.Ref);
    expect(keysOf(machinePlanId)).not.toContain(usersKeys[0]);
    expect(keysOf(machinePlanId)).toHaveLength(1);
    // The stage's ceiling leaves room for both plans at their full rates.
    template.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 70, ThrottlingBurstLimit: 140 })] });
    template.hasOutput('MachineKeysUsagePlanId', { Value: { Ref: machinePlanId }, Description: Match.stringLikeRegexp('keys create') });
  });

  it('answers the authorizer\'s refusals as 401 problems with the reason, an unreachable issuer as 503, throttling as 429', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'ACCESS_DENIED',
      StatusCode: '401',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('\\$context.authorizer.reason') },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'AUTHORIZER_FAILURE', StatusCode: '503' });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'THROTTLED', StatusCode: '429' });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'QUOTA_EXCEEDED', StatusCode: '429' });
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
    expect(byMetric('ProcessorTimeouts')).toMatchObject({ Namespace: 'ImageProcessor/Test' });
    expect(byMetric('ProcessorOutOfMemory')).toMatchObject({ Namespace: 'ImageProcessor/Test' });
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: Match.stringLikeRegexp('Task timed out'), MetricTransformations: [Match.objectLike({ MetricName: 'ProcessorTimeouts' })] });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ alarmEmail: 'ops@example.org' }).template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org' });
  });

  it('lets every alarm publish to its topic: CloudWatch, this account, this stack\'s alarms only', async () => {
    const iam = templateIam(template.toJSON() as CfnTemplate, { account: '123456789012', region: 'us-east-1', stackName: 'Test', bucketNames: {} });
    const cloudwatch = { principal: 'cloudwatch.amazonaws.com', policies: [] };
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.length).toBeGreaterThan(8);
    for (const alarm of alarms) {
      const alarmArn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarm.AlarmName}`;
      for (const topic of iam.resolve(alarm.AlarmActions) as string[]) {
        expect(await iam.isAllowed(cloudwatch, 'sns:Publish', topic, { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': alarmArn }), alarm.AlarmName).toBe(true);
        expect(await iam.isAllowed(cloudwatch, 'sns:Publish', topic, { 'aws:SourceAccount': '999999999999', 'aws:SourceArn': alarmArn })).toBe(false);
        expect(await iam.isAllowed(cloudwatch, 'sns:Publish', topic, { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:Other-Errors' })).toBe(false);
      }
    }
  });

  it('alarms on overuse: processor runs and API requests per hour above the context\'s thresholds', () => {
    const overuse = (t: typeof template, metric: string) =>
      Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metric, Period: 3600 } })).map((a) => a.Properties);
    expect(overuse(template, 'Invocations')).toEqual([expect.objectContaining({ Threshold: 1000, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Sum' })]);
    expect(overuse(template, 'Count')).toEqual([expect.objectContaining({ Threshold: 10000, ComparisonOperator: 'GreaterThanThreshold' })]);
    const custom = synth({ overuseImagesPerHour: '50', overuseApiRequestsPerHour: '600' }).template;
    expect(overuse(custom, 'Invocations')[0]).toMatchObject({ Threshold: 50 });
    expect(overuse(custom, 'Count')[0]).toMatchObject({ Threshold: 600 });
  });

  it('names what is per account (the API, alarms, metrics) after the stack, so two stacks keep apart', () => {
    const names = (t: typeof template) => [
      ...Object.values(t.findResources('AWS::ApiGateway::RestApi')).map((r) => r.Properties.Name),
      ...Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties.AlarmName),
      ...Object.values(t.findResources('AWS::Logs::MetricFilter')).map((r) => r.Properties.MetricTransformations[0].MetricNamespace),
    ];
    const other = synth({}, 'Other').template;
    const ours = names(template);
    expect(ours).toContain('Test-api');
    expect(ours.filter((name) => names(other).includes(name))).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'ImageProcessor/Test' }) } });
  });

  it('has a dashboard of the Powertools metrics and the AWS ones', () => {
    const dashboard = only(resources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['ImagesProcessed', 'ImagesFailed', 'ProcessingDuration', 'OutputBytes', 'Throttles', '5XXError', 'ApproximateNumberOfMessagesVisible']) {
      expect(body).toContain(metric);
    }
  });

  it('alarms on a surge of refused or throttled requests (4XX) and on authorizer failures', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.find((a) => a.MetricName === '4XXError')).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 500, Period: 300, AlarmActions: [expect.anything()] });
    const authorizer = Object.keys(resources('AWS::Lambda::Function')).find((id) => id.startsWith('ApiAuthorizerFunction'));
    expect(alarms.find((a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes(authorizer!))).toMatchObject({ Threshold: 1 });
    const lowered = Object.values(synth({ clientErrorsPerFiveMinutes: '50' }).template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(lowered.find((a) => a.MetricName === '4XXError')?.Threshold).toBe(50);
  });

  it('outputs the API URL and where to read the API key', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('ApiKeyId', { Description: Match.stringLikeRegexp('get-api-key') });
  });
});
