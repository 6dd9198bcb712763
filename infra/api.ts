import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  ResponseType,
  RestApi,
  type IApiKey,
} from 'aws-cdk-lib/aws-apigateway';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEDUP_PREFIX, IDEMPOTENCY_PREFIX, INDEX_PREFIX, ORIGINALS_PREFIX, PENDING_PREFIX } from '../src/processing/keys.js';
import { allowListing, allowObjects } from './bucket-access.js';
import { readsSecretParameter } from './secret-parameter.js';
import { lambdaBasics, logRetention } from './lambda-code.js';
import type { Settings } from './settings.js';

/** The answer API Gateway gives a missing or wrong key: the API's own problem+json, with 401. */
const UNAUTHORIZED = JSON.stringify({
  type: 'urn:image-processor:problem:unauthorized',
  title: 'Unauthorized',
  status: 401,
  detail: 'This API needs a valid x-api-key header.',
  code: 'unauthorized',
});

/**
 * API Gateway's answer to a body past what it or Lambda takes: the API's own problem+json, naming
 * the way large files go.
 */
const TOO_LARGE = JSON.stringify({
  type: 'urn:image-processor:problem:too_large',
  title: 'Payload Too Large',
  status: 413,
  detail: 'This request is too large for the API; upload large files through POST /v1/uploads, which gives a direct upload URL.',
  code: 'too_large',
});

/**
 * The same Hono app as the local server, in a Lambda behind an API Gateway REST API. Every route
 * needs an API key (with a usage plan's throttle and quota) but the page, its assets and /healthz.
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly function: LambdaFunction;
  readonly apiKey: IApiKey;

  constructor(scope: Construct, id: string, props: { settings: Settings; input: Bucket; output: Bucket }) {
    super(scope, id);
    const { settings, input, output } = props;
    const retention = logRetention(settings.logRetentionDays);

    const basics = lambdaBasics(settings, { input, output }, 'api');
    this.function = new LambdaFunction(this, 'Function', {
      ...basics,
      // The input bucket has transfer acceleration on: presigned uploads go through its endpoint.
      environment: { ...basics.environment, S3_ACCELERATE: 'true' },
      description: 'The image API and web page.',
      handler: 'api.handler',
      memorySize: 1024,
      // API Gateway gives up after 29 seconds.
      timeout: Duration.seconds(29),
      logGroup: new LogGroup(this, 'Logs', { retention }),
    });
    // Uploads (and presigned PUTs), reprocess copies and deletes of originals, its idempotency
    // records; removing an image's dedup record with it (never reading one); reading (and
    // presigning reads of) outputs and deleting them; writing on-demand renders.
    allowListing(this.function, input);
    allowObjects(this.function, input, `${ORIGINALS_PREFIX}*`, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    allowObjects(this.function, input, `${IDEMPOTENCY_PREFIX}*`, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    allowObjects(this.function, input, `${DEDUP_PREFIX}*`, ['s3:DeleteObject']);
    // The index: listed on upload, unlisted on delete; listings drop entries whose image is gone.
    allowObjects(this.function, input, `${INDEX_PREFIX}*`, ['s3:PutObject', 's3:DeleteObject']);
    // A reprocess marks the image pending; a delete removes the marker.
    allowObjects(this.function, input, `${PENDING_PREFIX}*`, ['s3:PutObject', 's3:DeleteObject']);
    allowListing(this.function, output);
    allowObjects(this.function, output, '*', ['s3:GetObject', 's3:DeleteObject']);
    // On-demand renders are made by the API and stored beside the image's variants; nothing else is written there.
    allowObjects(this.function, output, '*/renders/*', ['s3:PutObject']);
    readsSecretParameter(this.function, 'URL_SIGNING_SECRET_PARAMETER', settings.urlSigningSecretParameter);

    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Serverless Image Processor API v1',
      endpointTypes: [EndpointType.REGIONAL],
      // Images go through as bytes; the Lambda integration decodes and encodes base64.
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        accessLogDestination: new LogGroupLogDestination(new LogGroup(this, 'AccessLogs', { retention })),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        throttlingRateLimit: settings.apiRateLimit,
        throttlingBurstLimit: settings.apiBurstLimit,
      },
    });
    const integration = new LambdaIntegration(this.function);
    const open = { apiKeyRequired: false };
    this.restApi.root.addMethod('GET', integration, open);
    this.restApi.root.addResource('healthz').addMethod('GET', integration, open);
    this.restApi.root.addResource('assets').addResource('{file}').addMethod('GET', integration, open);
    // On-demand render links carry their own signature, checked by the function: no key.
    this.restApi.root.addResource('v1').addResource('renders').addResource('{id}').addResource('{name}').addMethod('GET', integration, open);
    // A plain {proxy+} resource: addProxy() would also put a MOCK ANY on / that answers 500.
    this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration, { apiKeyRequired: true });

    this.restApi.addGatewayResponse('InvalidApiKey', {
      type: ResponseType.INVALID_API_KEY,
      statusCode: '401',
      templates: { 'application/json': UNAUTHORIZED },
    });

    this.restApi.addGatewayResponse('RequestTooLarge', {
      type: ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      templates: { 'application/json': TOO_LARGE },
    });

    this.apiKey = this.restApi.addApiKey('ApiKey', { description: 'The key for x-api-key.' });
    const plan = this.restApi.addUsagePlan('UsagePlan', {
      throttle: { rateLimit: settings.apiRateLimit, burstLimit: settings.apiBurstLimit },
      quota: { limit: settings.apiQuotaPerDay, period: Period.DAY },
    });
    plan.addApiKey(this.apiKey);
    plan.addApiStage({ stage: this.restApi.deploymentStage });

    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'The Lambda validates every request against the zod schemas that also produce /openapi.json; a second, weaker validator here adds nothing.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'WAF is an optional add-on with its own cost; the usage plan throttles and caps each key.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Authorization is by API key with a usage plan; the page, its assets and /healthz are public by design, and on-demand render links carry a signature the function checks.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'No user pool: clients authenticate with API keys.',
    });
  }
}
