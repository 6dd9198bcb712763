import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKey,
  ApiKeySourceType,
  AuthorizationType,
  type CfnAuthorizer,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  ResponseType,
  RequestAuthorizer,
  RestApi,
  type IApiKey,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEDUP_PREFIX, IDEMPOTENCY_PREFIX, INDEX_PREFIX, ORIGINALS_PREFIX, PENDING_PREFIX } from '../src/processing/keys.js';
import { allowListing, allowObjects } from './bucket-access.js';
import { readsSecretParameter } from './secret-parameter.js';
import { lambdaBasics, logRetention } from './lambda-code.js';
import type { Settings } from './settings.js';
import { SignIn } from './sign-in.js';
import { askForCredentials, KEY_NOT_VALID } from '../src/http/credential-refusals.js';

/** A gateway response in the API's own problem+json. */
const problem = (status: number, title: string, code: string, detail: string) =>
  JSON.stringify({ type: `urn:image-processor:problem:${code}`, title, status, detail, code });

/** No credentials API Gateway could check. */
const UNAUTHORIZED = problem(401, 'Unauthorized', 'unauthorized', askForCredentials(true));
/** A key API Gateway does not know (or a deleted one): in the words the local server uses. */
const INVALID_KEY = problem(401, 'Unauthorized', 'unauthorized', KEY_NOT_VALID);
/** The authorizer's refusal: its reason (a token expired, for another audience...) is the detail. */
const REFUSED = problem(401, 'Unauthorized', 'unauthorized', '$context.authorizer.reason');
const SIGN_IN_UNAVAILABLE = problem(503, 'Service Unavailable', 'sign_in_unavailable', 'The sign-in service could not be reached to check the token; try again shortly.');
const THROTTLED = problem(429, 'Too Many Requests', 'rate_limited', 'Too many requests for this key or for the signed-in users; try again shortly.');
const QUOTA = problem(429, 'Too Many Requests', 'quota_exceeded', 'This API key has used its daily quota.');

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
 * The same Hono app as the local server, in a Lambda behind an API Gateway REST API. Every route but
 * the page, its assets, its sign-in settings and /healthz goes through a Lambda authorizer: people
 * signed in with the stack's Cognito user pool (their usage plan throttles them all together and has
 * no quota), machines with an API key of the machines' usage plan (each key its own throttle and quota).
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly function: LambdaFunction;
  readonly authorizerFunction: LambdaFunction;
  /** The first machine key (made with the stack, as before sign-in existed: images uploaded with it stay its). */
  readonly apiKey: IApiKey;
  readonly machinePlan: UsagePlan;
  readonly signIn: SignIn;

  constructor(scope: Construct, id: string, props: { settings: Settings; input: Bucket; output: Bucket }) {
    super(scope, id);
    const { settings, input, output } = props;
    const retention = logRetention(settings.logRetentionDays);

    const basics = lambdaBasics(settings, { input, output }, 'api');
    this.function = new LambdaFunction(this, 'Function', {
      ...basics,
      // The input bucket has transfer acceleration on: presigned uploads go through its endpoint.
      environment: { ...basics.environment, S3_ACCELERATE: 'true', RATE_LIMIT_PER_MINUTE: String(settings.requestsPerOwnerPerMinute) },
      description: 'The image API and web page.',
      handler: 'api.handler',
      memorySize: 1024,
      // API Gateway gives up after 29 seconds.
      timeout: Duration.seconds(29),
      logGroup: new LogGroup(this, 'Logs', { retention }),
    });
    // Uploads (and presigned PUTs), reprocess copies and deletes of originals, its idempotency
    // records; removing an image's dedup record with it (never reading one: only images processed
    // before the processor stopped keeping them on AWS have one); reading (and
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
      // The authorizer names the usage identifier: a machine's own key, or the signed-in users' key.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      // Images go through as bytes; the Lambda integration decodes and encodes base64.
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        accessLogDestination: new LogGroupLogDestination(new LogGroup(this, 'AccessLogs', { retention })),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        // The stage's own ceiling, over every caller: room for the signed-in users' plan and a machine
        // key at full rate together (each plan still throttles its own).
        throttlingRateLimit: settings.apiRateLimit + settings.signedInRateLimit,
        throttlingBurstLimit: settings.apiBurstLimit + settings.signedInBurstLimit,
      },
    });
    // The page's address, built from the API's id alone: the user pool's client needs it as its
    // callback, and the API's deployment (restApi.url) depends on methods that need the pool.
    const stack = Stack.of(this);
    const pageUrl = `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/prod/`;
    this.signIn = new SignIn(this, 'SignIn', { pageUrl, selfSignUp: settings.selfSignUp, ...(settings.signInDomainPrefix ? { domainPrefix: settings.signInDomainPrefix } : {}) });
    // The page reads these through GET /v1/sign-in; the authorizer, not the function, checks tokens.
    this.function.addEnvironment('OIDC_ISSUER', this.signIn.issuer);
    this.function.addEnvironment('OIDC_CLIENT_ID', this.signIn.client.userPoolClientId);

    this.apiKey = this.restApi.addApiKey('ApiKey', { description: 'The first machine key for x-api-key (image-processor keys create makes more).' });
    this.machinePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: `${stack.stackName}-machines`,
      description: 'Machine clients: each API key has this throttle and daily quota of its own.',
      throttle: { rateLimit: settings.apiRateLimit, burstLimit: settings.apiBurstLimit },
      quota: { limit: settings.apiQuotaPerDay, period: Period.DAY },
    });
    this.machinePlan.addApiKey(this.apiKey);
    this.machinePlan.addApiStage({ stage: this.restApi.deploymentStage });
    // Every signed-in person's requests count against this key's plan: a throttle, and no quota.
    // Not restApi.addApiKey: that ties the key to the stage, which (through the authorizer reading it) depends on the key.
    const usersKey = new ApiKey(this, 'SignedInUsersKey', { description: 'Stands for the signed-in users in their usage plan; the authorizer refuses it as a credential.' });
    const usersPlan = this.restApi.addUsagePlan('SignedInPlan', {
      name: `${stack.stackName}-signed-in`,
      description: 'People signed in with the user pool: one throttle for all of them, no quota; per-person limits are the API function\'s.',
      throttle: { rateLimit: settings.signedInRateLimit, burstLimit: settings.signedInBurstLimit },
    });
    usersPlan.addApiKey(usersKey);
    usersPlan.addApiStage({ stage: this.restApi.deploymentStage });
    this.function.addEnvironment('USERS_API_KEY_ID', usersKey.keyId);

    this.authorizerFunction = new LambdaFunction(this, 'AuthorizerFunction', {
      ...basics,
      environment: {
        OIDC_ISSUER: this.signIn.issuer,
        OIDC_CLIENT_ID: this.signIn.client.userPoolClientId,
        USERS_API_KEY_ID: usersKey.keyId,
        POWERTOOLS_SERVICE_NAME: 'authorizer',
      },
      description: 'Who may call the API: a signed-in user\'s access token, or an API key for the usage plan to check.',
      handler: 'authorizer.handler',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logGroup: new LogGroup(this, 'AuthorizerLogs', { retention }),
    });
    // It reads the users' key value (its usage identifier) once per container, and nothing else.
    this.authorizerFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['apigateway:GET'], resources: [`arn:${stack.partition}:apigateway:${stack.region}::/apikeys/${usersKey.keyId}`] }),
    );
    const authorizer = new RequestAuthorizer(this, 'Authorizer', {
      handler: this.authorizerFunction,
      identitySources: [IdentitySource.header('Authorization')],
      // No cache: a request carries a token or a key, and either may be the only one; the
      // authorizer keeps the issuer's keys, so a call costs a signature check.
      resultsCacheTtl: Duration.seconds(0),
    });
    // Without caching API Gateway needs no identity source, and with one it would refuse a request
    // that lacks that header (a key-only request) before asking the authorizer.
    (authorizer.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');

    const integration = new LambdaIntegration(this.function);
    const open = { apiKeyRequired: false };
    this.restApi.root.addMethod('GET', integration, open);
    this.restApi.root.addResource('healthz').addMethod('GET', integration, open);
    this.restApi.root.addResource('assets').addResource('{file}').addMethod('GET', integration, open);
    const v1 = this.restApi.root.addResource('v1');
    // How to sign in: asked for before anyone has.
    v1.addResource('sign-in').addMethod('GET', integration, open);
    // What uploads it takes: shown on the page before anyone signs in.
    v1.addResource('settings').addMethod('GET', integration, open);
    // On-demand render links carry their own signature, checked by the function: no key.
    v1.addResource('renders').addResource('{id}').addResource('{name}').addMethod('GET', integration, open);
    // A plain {proxy+} resource: addProxy() would also put a MOCK ANY on / that answers 500.
    this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration, { apiKeyRequired: true, authorizer, authorizationType: AuthorizationType.CUSTOM });

    const json = (body: string) => ({ 'application/json': body });
    this.restApi.addGatewayResponse('InvalidApiKey', { type: ResponseType.INVALID_API_KEY, statusCode: '401', templates: json(INVALID_KEY) });
    this.restApi.addGatewayResponse('Unauthorized', { type: ResponseType.UNAUTHORIZED, statusCode: '401', templates: json(UNAUTHORIZED) });
    this.restApi.addGatewayResponse('Refused', {
      type: ResponseType.ACCESS_DENIED,
      statusCode: '401',
      templates: json(REFUSED),
      responseHeaders: { 'WWW-Authenticate': "'Bearer error=\"invalid_token\"'" },
    });
    this.restApi.addGatewayResponse('SignInUnavailable', {
      type: ResponseType.AUTHORIZER_FAILURE,
      statusCode: '503',
      templates: json(SIGN_IN_UNAVAILABLE),
      responseHeaders: { 'Retry-After': "'5'" },
    });
    this.restApi.addGatewayResponse('Throttled', { type: ResponseType.THROTTLED, statusCode: '429', templates: json(THROTTLED), responseHeaders: { 'Retry-After': "'1'" } });
    this.restApi.addGatewayResponse('QuotaExceeded', { type: ResponseType.QUOTA_EXCEEDED, statusCode: '429', templates: json(QUOTA) });

    this.restApi.addGatewayResponse('RequestTooLarge', {
      type: ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      templates: { 'application/json': TOO_LARGE },
    });

    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'The Lambda validates every request against the zod schemas that also produce /openapi.json; a second, weaker validator here adds nothing.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'WAF is an optional add-on with its own cost; the usage plans throttle each key and the signed-in users, and cap each key.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Every API route has the Lambda authorizer (user pool tokens or API keys); the page, its assets, its sign-in and upload settings and /healthz are public by design, and on-demand render links carry a signature the function checks.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'A Lambda authorizer verifies the user pool\'s access tokens (a Cognito authorizer cannot also let API keys in, which machines use).',
    });
  }
}
