import type { APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, S3Event, SQSEvent } from 'aws-lambda';

/** An S3 ObjectCreated notification as AWS sends it: the key URL-encoded, a space as `+`. */
export function s3PutEvent(bucket: string, key: string, size: number): S3Event {
  const encoded = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:EXAMPLE' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'originals',
          bucket: { name: bucket, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encoded, size, eTag: '0123456789abcdef0123456789abcdef', sequencer: '0A1B2C3D4E5F678901' },
        },
      },
    ],
  };
}

/** An API Gateway REST API (v1 payload) proxy event, as the `{proxy+}` resource delivers it. */
export function restApiEvent(
  method: string,
  path: string,
  options: {
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: Buffer | string;
    /** Who API Gateway let in: the authorizer's context, and the key of the usage plan that counted the call. */
    caller?: { authorizer?: Record<string, string>; apiKeyId?: string };
  } = {},
): APIGatewayProxyEvent {
  const headers = { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'x-forwarded-proto': 'https', ...options.headers };
  const binary = Buffer.isBuffer(options.body);
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body: options.body === undefined ? null : binary ? (options.body as Buffer).toString('base64') : (options.body as string),
    isBase64Encoded: binary,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: options.caller?.authorizer ?? null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: { apiKey: 'test-key', apiKeyId: options.caller?.apiKeyId ?? 'key-id-1', sourceIp: '127.0.0.1', userAgent: 'test' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${path}`,
      stage: 'prod',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'abcdef',
      resourcePath: '/{proxy+}',
    },
  };
}

/** The event API Gateway sends a REQUEST authorizer for a call to the `{proxy+}` resource. */
export function authorizerEvent(method: string, path: string, headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/${method}${path}`,
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: 'd7bf0bd7-8c72-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'abcdef',
      resourcePath: '/{proxy+}',
      protocol: 'HTTP/1.1',
      identity: { sourceIp: '127.0.0.1', userAgent: 'test' },
    } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** Lambda's limit on a synchronous invocation's request and response payloads. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6_291_456;

/** How long API Gateway (REST) waits for its Lambda integration before it answers 504. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/**
 * API Gateway in front of an API handler, with its limits and Lambda's: an event over 6 MB never
 * reaches the function (API Gateway answers 413 "Request Too Long"), a response over it becomes a
 * 502, and an answer later than 29 seconds a 504.
 */
export function throughApiGateway(handler: (event: APIGatewayProxyEvent, context: object) => Promise<APIGatewayProxyResult>) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_SYNC_PAYLOAD_BYTES) return { statusCode: 413, body: '{"message": "Request Too Long"}' };
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<APIGatewayProxyResult>((resolve) => {
      timer = setTimeout(() => resolve({ statusCode: 504, body: '{"message": "Endpoint request timed out"}' }), API_GATEWAY_TIMEOUT_MS);
    });
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => API_GATEWAY_TIMEOUT_MS - (Date.now() - started) };
    try {
      const result = await Promise.race([handler(event, context), timedOut]);
      if (Buffer.byteLength(JSON.stringify(result)) > LAMBDA_SYNC_PAYLOAD_BYTES) return { statusCode: 502, body: '{"message": "Internal server error"}' };
      return result;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The SQS event that feeds the failure handler: each body is a Lambda on-failure invocation record
 * (AWS's documented shape) for one S3 event that failed every attempt.
 */
export function failureRecordsEvent(records: { event: S3Event; errorType?: string; errorMessage?: string; condition?: string }[]): SQSEvent {
  return {
    Records: records.map(({ event, errorType, errorMessage, condition = 'RetriesExhausted' }, i) => ({
      messageId: `message-${i}`,
      receiptHandle: `handle-${i}`,
      body: JSON.stringify({
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: { requestId: `request-${i}`, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:processor:$LATEST', condition, approximateInvokeCount: 3 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: errorType || errorMessage ? { ...(errorType ? { errorType } : {}), ...(errorMessage ? { errorMessage } : {}) } : null,
      }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AROA', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:failures',
      awsRegion: 'us-east-1',
    })),
  };
}
