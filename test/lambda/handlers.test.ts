import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_NOT_VALID } from '../../src/http/credential-refusals.js';
import { manifestKey, originalKey } from '../../src/processing/keys.js';
import { readManifest, writeManifest } from '../../src/processing/manifest.js';
import { createS3Client, createS3Store, type S3Store } from '../../src/storage/s3-store.js';
import { startIamS3, type IamS3 } from '../helpers/aws/iam-s3.js';
import { startFakeSsm } from '../helpers/aws/fake-ssm.js';
import { bucketIds, synth } from '../helpers/aws/synth.js';
import { collect } from '../helpers/collect.js';
import { templateIam, type CfnTemplate, type TemplateIam } from '../helpers/aws/template-iam.js';
import { authorizerEvent, failureRecordsEvent, restApiEvent, s3PutEvent, throughApiGateway } from '../helpers/aws-events.js';
import { startFakeApiGateway } from '../helpers/aws/fake-api-gateway.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';
import { noisy, solid } from '../helpers/images.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

const INPUT = 'image-processor-input-bucket';
const OUTPUT = 'image-processor-output-bucket';
const ACCOUNT = '123456789012';
const bundle = (name: string) => pathToFileURL(join(import.meta.dirname, '../../dist/lambda', name)).href;

let s3: S3Server;
let gate: IamS3;
let iam: TemplateIam;
/** Straight to s3rver, past IAM: another tool's writes, and the test's own look at the buckets. */
let input: S3Store;
let output: S3Store;
let processor: (event: S3Event) => Promise<void>;
let failures: (event: SQSEvent) => Promise<SQSBatchResponse>;
let call: ReturnType<typeof throughApiGateway>;

const HANDLERS = { processor: 'processor.handler', api: 'api.handler', failures: 'failures.handler', authorizer: 'authorizer.handler' } as const;

const SECRET_PARAMETER = '/image-processor/webhook-secret';
const SIGNING_PARAMETER = '/image-processor/url-signing-secret';
const SECRET = 'webhook-secret-from-ssm-0123456789';
let hook: Awaited<ReturnType<typeof webhookReceiver>>;
let ssm: Awaited<ReturnType<typeof startFakeSsm>>;
let apiEnvironment: Record<string, string>;
/** Cognito cannot be reached from here: an issuer of our own stands in, making tokens shaped as Cognito's. */
let cognito: TokenIssuer;
let apiGateway: Awaited<ReturnType<typeof startFakeApiGateway>>;
let authorize: (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
let usersKeyValue: string;

beforeAll(async () => {
  s3 = await startS3rver([INPUT, OUTPUT]);
  hook = await webhookReceiver();
  const { template } = synth({ WEBHOOK_URL: hook.url, webhookSecretParameter: SECRET_PARAMETER, urlSigningSecretParameter: SIGNING_PARAMETER });
  const ids = bucketIds(template);
  iam = templateIam(template.toJSON() as CfnTemplate, { account: ACCOUNT, region: 'us-east-1', stackName: 'Test', bucketNames: { [ids.input]: INPUT, [ids.output]: OUTPUT } });
  // Each function reaches S3 through its own port, judged against its own role from the template.
  const roles = Object.fromEntries(Object.entries(HANDLERS).map(([name, handler]) => [name, iam.functionRole(handler)]));
  gate = await startIamS3(s3.endpoint, iam, roles);
  // The webhook secret lives in an SSM SecureString the deployer made; each function reads it through its own port.
  ssm = await startFakeSsm(iam, roles, { [SECRET_PARAMETER]: SECRET, [SIGNING_PARAMETER]: 'url-signing-secret-from-ssm-0123456789' });
  apiEnvironment = iam.functionEnvironment(HANDLERS.api);
  cognito = await startTokenIssuer(apiEnvironment.OIDC_CLIENT_ID!);
  apiGateway = await startFakeApiGateway(iam, roles);
  usersKeyValue = apiGateway.addKey(apiEnvironment.USERS_API_KEY_ID!, 'signed-in-plan');
  const admin = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
  input = createS3Store(admin, INPUT);
  output = createS3Store(admin, OUTPUT);

  // Each bundle starts (and reads its configuration) with the environment the template gives its
  // function, as on Lambda; only what cannot be the same here is changed.
  let previous: string[] = [];
  const start = async <T>(name: keyof typeof HANDLERS): Promise<T> => {
    const variables = iam.functionEnvironment(HANDLERS[name]);
    for (const key of [...previous, ...Object.keys(variables)]) delete process.env[key];
    previous = Object.keys(variables);
    Object.assign(process.env, variables, {
      S3_ENDPOINT: gate.endpoints[name],
      AWS_ENDPOINT_URL_SSM: ssm.endpoints[name],
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      WATERMARK_TEXT: 'LAMBDA',
      WATERMARK_FONT_FILE: '',
      FONTCONFIG_PATH: '',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...(variables.OIDC_ISSUER ? { OIDC_ISSUER: cognito.issuer } : {}),
      AWS_ENDPOINT_URL_API_GATEWAY: apiGateway.endpoints[name],
    });
    return ((await import(bundle(`${name}.mjs`))) as { handler: T }).handler;
  };
  processor = await start('processor');
  failures = await start('failures');
  call = throughApiGateway(await start<(event: APIGatewayProxyEvent, context: object) => Promise<APIGatewayProxyResult>>('api'));
  authorize = await start('authorizer');
});
afterAll(async () => {
  await gate?.close();
  await ssm?.close();
  await apiGateway?.close();
  await cognito?.close();
  await hook?.close();
  await s3?.close();
});

/** The webhook deliveries of one image, their signature checked with the secret from SSM. */
function deliveriesOf(id: string) {
  return hook.deliveries
    .filter((delivery) => (JSON.parse(delivery.body) as { image: { id: string } }).image.id === id)
    .map((delivery) => {
      expect(delivery.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`);
      return (JSON.parse(delivery.body) as { event: string }).event;
    });
}

const json = (result: { body: string }) => JSON.parse(result.body) as Record<string, any>;

describe('processor Lambda bundle', () => {
  it('processes an original another tool wrote, whose key needs decoding (space and plus)', async () => {
    const key = originalKey('My Photo+1.jpg');
    const body = await noisy(1200, 900);
    await input.put(key, body);
    await processor(s3PutEvent(INPUT, key, body.length));
    const manifest = await readManifest(output, 'My Photo+1.jpg');
    expect(manifest).toMatchObject({ status: 'done', original: { width: 1200, height: 900 } });
    expect(manifest?.variants.map((v) => v.key)).toEqual(['My Photo+1.jpg/thumbnail.jpg', 'My Photo+1.jpg/medium.jpg', 'My Photo+1.jpg/large.jpg']);
  });

  it('decodes HEIC and BMP originals in its workers, from the minified bundle', async () => {
    const fixtures = join(import.meta.dirname, '../fixtures');
    for (const [id, file] of [['phone.heic', 'scene.heic'], ['paint.bmp', 'scene.bmp']] as const) {
      const bytes = await readFile(join(fixtures, file));
      await input.put(originalKey(id), bytes);
      await processor(s3PutEvent(INPUT, originalKey(id), bytes.length));
      expect(await readManifest(output, id), id).toMatchObject({ status: 'done', variants: expect.arrayContaining([expect.objectContaining({ name: 'thumbnail' })]) });
    }
  });

  it('takes a repeated event calmly', async () => {
    const key = originalKey('repeat.jpg');
    await input.put(key, await solid(400, 300, '#446688'));
    await processor(s3PutEvent(INPUT, key, 1));
    const first = await readManifest(output, 'repeat.jpg');
    await processor(s3PutEvent(INPUT, key, 1));
    expect((await readManifest(output, 'repeat.jpg'))?.completedAt).toBe(first?.completedAt);
  });

  it('ends a corrupt original as a failed manifest instead of a retry loop', async () => {
    const key = originalKey('corrupt.jpg');
    await input.put(key, (await noisy(800, 600)).subarray(0, 3000));
    await expect(processor(s3PutEvent(INPUT, key, 3000))).resolves.toBeUndefined();
    expect(await readManifest(output, 'corrupt.jpg')).toMatchObject({ status: 'failed', error: { code: 'decode_failed' } });
  });

  it('ignores objects outside originals/', async () => {
    await expect(processor(s3PutEvent(INPUT, 'elsewhere/file.jpg', 10))).resolves.toBeUndefined();
  });

  it('made every S3 request with permissions its role has', () => {
    expect(gate.denied()).toEqual([]);
  });
});

describe('the whole flow on AWS, every S3 request judged by the template\'s IAM', () => {
  it('answers health, and serves the page', async () => {
    const health = await call(restApiEvent('GET', '/healthz'));
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ status: 'ok' });
    const page = await call(restApiEvent('GET', '/'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Upload images');
  });

  it('uploads through a presigned PUT, processes, reports, serves downloads, renders a re-upload anew, reprocesses and deletes', async () => {
    const photo = await solid(1000, 700, '#335577');
    const requestsBefore = gate.decisions.length;
    const ticket = await call(
      restApiEvent('POST', '/v1/uploads', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contentType: 'image/jpeg', size: photo.length, filename: 'from browser.jpg', watermark: false }),
      }),
    );
    expect(ticket.statusCode).toBe(201);
    const { id, upload } = json(ticket);
    // Signing is local: minting a ticket makes no S3 request.
    expect(gate.decisions.length).toBe(requestsBefore);
    // Signed by the API function: S3 judges the PUT as that role.
    expect(upload.url).toContain(gate.endpoints.api);
    expect(upload.url).not.toMatch(/x-amz-checksum/i);
    const put = await fetch(upload.url, { method: 'PUT', body: new Uint8Array(photo), headers: upload.headers });
    expect(put.status).toBe(200);
    await processor(s3PutEvent(INPUT, originalKey(id), photo.length));

    const image = json(await call(restApiEvent('GET', `/v1/images/${id}`)));
    expect(image).toMatchObject({ status: 'done', original: { filename: 'from browser.jpg', width: 1000, height: 700 } });
    // Listed under its owner alone: on AWS nothing reads the index of every image, so it is not written.
    const entries = (await collect(input.list('index/'))).map((object) => object.key).filter((key) => key.endsWith(id));
    expect(entries).toEqual([expect.stringMatching(/^index\/owner\//)]);
    expect(json(await call(restApiEvent('GET', '/v1/images?limit=5'))).items.map((item: { id: string }) => item.id)).toContain(id);
    // Delivered before the handler returned, signed with the secret the processor read from SSM.
    expect(deliveriesOf(id)).toEqual(['image.done']);
    // Variant links are presigned S3 URLs: they work with no key and no API Gateway.
    const medium = await fetch(image.variants[1].url);
    expect(medium.status).toBe(200);
    expect(medium.headers.get('content-disposition')).toMatch(/^inline; filename="from_browser-medium.jpg"/);
    const mediumBytes = Buffer.from(await medium.arrayBuffer());
    expect((await sharp(mediumBytes).metadata()).width).toBe(800);
    // So is the original's (the page's "Download original"), presigned by the API function under its own IAM.
    const originalLink = await fetch(image.originalUrl);
    expect(originalLink.status).toBe(200);
    expect(originalLink.headers.get('content-disposition')).toMatch(/^attachment; filename="from_browser.jpg"/);
    expect(Buffer.from(await originalLink.arrayBuffer()).equals(photo)).toBe(true);

    const download = await call(restApiEvent('GET', `/v1/images/${id}/variants/medium`));
    expect(download.statusCode).toBe(302);
    const location = String(download.multiValueHeaders?.location?.[0]);
    expect(location).toContain(`${OUTPUT}/${id}/medium.jpg`);
    expect((await fetch(location)).headers.get('content-type')).toBe('image/jpeg');
    const original = await call(restApiEvent('GET', `/v1/images/${id}/original`));
    expect(Buffer.from(await (await fetch(String(original.multiValueHeaders?.location?.[0]))).arrayBuffer()).equals(photo)).toBe(true);

    // The same bytes again, through API Gateway: on AWS no dedup record is kept (a record's GET and
    // PUT on every image, and a copy's PUTs, cost more than the render they spare), so it is
    // rendered again, to the same bytes.
    const again = await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, query: { watermark: 'false' }, body: photo }));
    expect(again.statusCode).toBe(202);
    const twin = json(again).id as string;
    await processor(s3PutEvent(INPUT, originalKey(twin), photo.length));
    expect(await collect(input.list('dedup/'))).toEqual([]);
    const twinImage = json(await call(restApiEvent('GET', `/v1/images/${twin}`)));
    expect(twinImage.status).toBe('done');
    expect(Buffer.from(await (await fetch(twinImage.variants[1].url)).arrayBuffer()).equals(mediumBytes)).toBe(true);

    // Listed from the index, newest first: the direct upload was listed by the processor, the POST by the API.
    // (Other tests' images, shared and older, follow them.)
    const listed = async () => (json(await call(restApiEvent('GET', '/v1/images'))).items as { id: string }[]).map((item) => item.id).filter((listedId) => [id, twin].includes(listedId));
    expect(await listed()).toEqual([twin, id]);

    // Reprocess: the API copies the original onto itself, S3 announces it again.
    const reprocess = await call(restApiEvent('POST', `/v1/images/${id}/reprocess`));
    expect(reprocess.statusCode).toBe(202);
    expect(json(await call(restApiEvent('GET', `/v1/images/${id}`))).status).toBe('pending');
    await processor(s3PutEvent(INPUT, originalKey(id), photo.length));
    expect(json(await call(restApiEvent('GET', `/v1/images/${id}`))).status).toBe('done');
    // The copy has a new LastModified, but the image keeps its place and is listed once.
    expect(await listed()).toEqual([twin, id]);

    // An on-demand size: a link signed with the secret from SSM, rendered by the API on its first
    // request (no key: API Gateway's open resource), stored beside the variants, then a redirect.
    const minted = await call(restApiEvent('POST', `/v1/images/${id}/renders`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ width: 320, format: 'webp' }) }));
    expect(minted.statusCode).toBe(201);
    const link = new URL(json(minted).url);
    // As API Gateway sends it: its own keyless resource, so no API key in the request context.
    const renderEvent = (path: string) => {
      const event = restApiEvent('GET', path, { query: Object.fromEntries(link.searchParams) });
      const [, , , renderId, name] = path.split('/');
      event.resource = event.requestContext.resourcePath = '/v1/renders/{id}/{name}';
      event.pathParameters = { id: renderId!, name: name! };
      event.requestContext.identity = { ...event.requestContext.identity, apiKey: null, apiKeyId: null };
      return event;
    };
    const rendered = await call(renderEvent(link.pathname));
    expect(rendered.statusCode).toBe(302);
    const renderBytes = Buffer.from(await (await fetch(String(rendered.multiValueHeaders?.location?.[0]))).arrayBuffer());
    expect(await sharp(renderBytes).metadata()).toMatchObject({ format: 'webp', width: 320 });
    expect((await collect(output.list(`${id}/renders/`))).length).toBe(1);
    expect((await call(renderEvent(link.pathname.replace('/w320-', '/w640-')))).statusCode).toBe(403);

    const deleted = await call(restApiEvent('DELETE', `/v1/images/${id}`));
    expect(deleted.statusCode).toBe(204);
    expect(await input.head(originalKey(id))).toBeUndefined();
    expect(await collect(output.list(`${id}/`))).toEqual([]);
    expect((await call(restApiEvent('GET', `/v1/images/${id}`))).statusCode).toBe(404);
    expect(json(await call(restApiEvent('GET', `/v1/images/${twin}`))).status).toBe('done');
    expect(await listed()).toEqual([twin]);
    expect((await collect(input.list('index/'))).map((object) => object.key).filter((key) => key.endsWith(id))).toEqual([]);

    expect(gate.denied()).toEqual([]);
  });

  it('holds GET ?wait=N inside API Gateway\'s 29 s, reading the image from S3 until the processor\'s event ends it', async () => {
    const posted = await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body: await noisy(320, 240) }));
    const { id } = json(posted) as { id: string };
    // No event has reached the processor yet: the wait runs out and says so.
    const waited = await call(restApiEvent('GET', `/v1/images/${id}`, { query: { wait: '2' } }));
    expect(waited.statusCode).toBe(200);
    expect(json(waited).status).toBe('pending');
    // The processor runs while a request waits: the answer is the done image.
    const following = call(restApiEvent('GET', `/v1/images/${id}`, { query: { wait: '20' } }));
    const original = (await input.head(originalKey(id)))!;
    await processor(s3PutEvent(INPUT, originalKey(id), original.size));
    const answer = await following;
    expect(answer.statusCode).toBe(200);
    expect(json(answer).status).toBe('done');
    expect(gate.denied()).toEqual([]);
  });

  it('spends few S3 requests on an upload: the API lists the image before storing it, the processor reads the original once and writes its outputs alone', async () => {
    const before = gate.decisions.length;
    const { id } = json(await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body: await noisy(320, 240) }))) as { id: string };
    const original = (await input.head(originalKey(id)))!;
    const uploaded = gate.decisions.length;
    await processor(s3PutEvent(INPUT, originalKey(id), original.size));
    const processed = gate.decisions.length;
    expect(json(await call(restApiEvent('GET', `/v1/images/${id}`))).status).toBe('done');
    const writes = (decisions: typeof gate.decisions) => decisions.filter((d) => d.method !== 'GET' && d.method !== 'HEAD').map((d) => d.path);

    // The upload: the owner's index entry first, then the original (a crash between leaves an entry a
    // listing passes over). No entry in the index of every image: nothing on AWS reads it.
    const upload = writes(gate.decisions.slice(before, uploaded));
    expect(upload).toHaveLength(2);
    expect(upload[0]).toMatch(/\/index\/owner\//);
    expect(upload[1]).toContain(originalKey(id));
    // The processing: no index entry again, no pending marker; the original read by one GET, then
    // looked at once more after the manifest (a delete racing it).
    const processing = gate.decisions.slice(uploaded, processed);
    expect(processing.filter((d) => /\/(index|pending)\//.test(d.path))).toEqual([]);
    expect(processing.filter((d) => d.path.includes(originalKey(id))).map((d) => d.method)).toEqual(['GET', 'HEAD']);
    // A new image is not asked for a manifest: the listing of its outputs shows none stands.
    expect(processing.filter((d) => d.path.endsWith('/manifest.json') && d.method === 'GET')).toEqual([]);
    expect(processing.filter((d) => d.method === 'GET' || d.method === 'HEAD')).toHaveLength(3);
    // It writes the three variants and the final manifest, once each: no `processing` manifest
    // before them, no dedup record.
    const written = writes(processing);
    expect(written).toHaveLength(4);
    expect(written.filter((path) => path.includes(`${id}/manifest.json`))).toHaveLength(1);
    expect(written.at(-1)).toContain(`${id}/manifest.json`);
    expect(gate.denied()).toEqual([]);
  });

  it('takes a raw POST of up to 4,669,440 bytes, and answers a larger one with a 413 that names POST /v1/uploads', async () => {
    const jpeg = await noisy(600, 400);
    // A photo followed by other bytes is still that photo: the header decides, the rest is ignored.
    const sized = (bytes: number) => Buffer.concat([jpeg, Buffer.alloc(bytes - jpeg.length)]);
    const post = (body: Buffer) => call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body }));

    const largest = await post(sized(4_669_440));
    expect(largest.statusCode).toBe(202);
    expect((await input.head(originalKey(json(largest).id)))?.size).toBe(4_669_440);

    const over = await post(sized(4_669_441));
    expect(over.statusCode).toBe(413);
    expect(json(over)).toMatchObject({ code: 'too_large', detail: expect.stringContaining('POST /v1/uploads') });
    // Past what the event can carry, Lambda is never reached: API Gateway's own 413.
    expect((await post(sized(5_000_000))).statusCode).toBe(413);

    const refused = await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body: Buffer.from('not an image') }));
    expect(refused.statusCode).toBe(415);
    expect(json(refused)).toMatchObject({ code: 'unsupported_format' });
  });
});

describe('sign-in on AWS: the authorizer bundle, then the API bundle as API Gateway calls it', () => {
  /** A Cognito access token: typ JWT, token_use access, client_id and no aud. */
  const cognitoToken = (sub: string, options: Parameters<TokenIssuer['sign']>[0] = {}) =>
    cognito.sign({ sub, typ: 'JWT', ...options, claims: { aud: undefined, token_use: 'access', client_id: apiEnvironment.OIDC_CLIENT_ID, username: sub, ...options.claims } });

  /** What API Gateway does: the authorizer decides, then the call reaches the API with its context and the usage plan's key. */
  async function asApiGateway(method: string, path: string, headers: Record<string, string>, body?: Buffer) {
    const decision = await authorize(authorizerEvent(method, path, headers));
    const allowed = decision.policyDocument.Statement.every((statement) => statement.Effect === 'Allow');
    if (!allowed) return { statusCode: 401, body: JSON.stringify({ code: 'unauthorized', detail: decision.context?.reason }) };
    const key = apiGateway.keyByValue(String(decision.usageIdentifierKey));
    if (!key) return { statusCode: 401, body: JSON.stringify({ code: 'unauthorized', detail: KEY_NOT_VALID }) };
    const context = Object.fromEntries(Object.entries(decision.context ?? {}).map(([name, value]) => [name, String(value)]));
    return call(restApiEvent(method, path, { headers, ...(body ? { body } : {}), caller: { authorizer: { ...context, principalId: decision.principalId }, apiKeyId: key.id } }));
  }

  it('lets a signed-in person in under the users\' key, owner from the token; keeps people and keys apart', async () => {
    const alice = { authorization: `Bearer ${await cognitoToken('alice')}` };
    const bob = { authorization: `Bearer ${await cognitoToken('bob')}` };
    const decision = await authorize(authorizerEvent('GET', '/v1/images', alice));
    expect(decision.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(decision.usageIdentifierKey).toBe(usersKeyValue);
    expect(decision.context?.owner).toMatch(/^user-[0-9a-f]{24}$/);

    const uploaded = await asApiGateway('POST', '/v1/images', { ...alice, 'content-type': 'image/png' }, await solid(40, 30, 'teal'));
    expect(uploaded.statusCode).toBe(202);
    const id = json(uploaded).id as string;
    const listed = (headers: Record<string, string>) => asApiGateway('GET', '/v1/images', headers).then((result) => (json(result).items as { id: string }[]).map((item) => item.id));
    expect(await listed(alice)).toContain(id);
    expect(await listed(bob)).not.toContain(id);
    expect((await asApiGateway('GET', `/v1/images/${id}`, bob)).statusCode).toBe(404);
    // The stack's machine key (its own owner) does not see it either.
    expect((await call(restApiEvent('GET', `/v1/images/${id}`))).statusCode).toBe(404);
    expect((await asApiGateway('DELETE', `/v1/images/${id}`, alice)).statusCode).toBe(204);
  });

  it('refuses bad tokens with the reason, the users\' key as a credential, and a call without either', async () => {
    const refusals: [Record<string, string>, RegExp][] = [
      [{ authorization: `Bearer ${await cognitoToken('alice', { expiresIn: -300 })}` }, /expired/],
      [{ authorization: `Bearer ${await cognitoToken('alice', { claims: { client_id: 'another-client' } })}` }, /another audience/],
      [{ authorization: `Bearer ${await cognitoToken('alice', { claims: { token_use: 'id' } })}` }, /not an access token/],
      [{ authorization: `Bearer ${cognito.unsigned({ typ: 'JWT', claims: { aud: undefined, token_use: 'access', client_id: apiEnvironment.OIDC_CLIENT_ID } })}` }, /none are not accepted/],
      [{ 'x-api-key': usersKeyValue }, /not valid/],
      [{}, /sign in/i],
    ];
    for (const [headers, reason] of refusals) {
      const decision = await authorize(authorizerEvent('GET', '/v1/images', headers));
      expect(decision.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      expect(String(decision.context?.reason)).toMatch(reason);
    }
    // A machine's key goes to its usage plan, which judges it; the owner is the key API Gateway names.
    const machine = await authorize(authorizerEvent('GET', '/v1/images', { 'x-api-key': 'some-machine-key' }));
    expect(machine).toMatchObject({ usageIdentifierKey: 'some-machine-key', policyDocument: { Statement: [{ Effect: 'Allow' }] } });
    // The users' key reaching the function without a user is nobody.
    const bypass = await call(restApiEvent('GET', '/v1/images', { caller: { apiKeyId: apiEnvironment.USERS_API_KEY_ID! } }));
    expect(bypass.statusCode).toBe(401);
  });

  it('read the users\' key with its role, which reaches that key only', async () => {
    expect(apiGateway.denied).toEqual([]);
    const role = iam.functionRole(HANDLERS.authorizer);
    expect(await iam.isAllowed(role, 'apigateway:GET', `arn:aws:apigateway:us-east-1::/apikeys/${apiEnvironment.USERS_API_KEY_ID}`)).toBe(true);
    expect(await iam.isAllowed(role, 'apigateway:GET', 'arn:aws:apigateway:us-east-1::/apikeys/another-key')).toBe(false);
    expect(await iam.isAllowed(role, 'apigateway:DELETE', `arn:aws:apigateway:us-east-1::/apikeys/${apiEnvironment.USERS_API_KEY_ID}`)).toBe(false);
  });
});

describe('failure handler Lambda bundle', () => {
  /** An image whose processor was stopped on every attempt: the original, and a manifest left at `processing`. */
  async function stuck(id: string) {
    const body = await solid(300, 200, '#884422');
    const stored = await input.put(originalKey(id), body, { contentType: 'image/jpeg', metadata: { filename: `${id}.jpg` } });
    await writeManifest(output, { id, status: 'processing', original: { bytes: body.length }, variants: [], watermark: true, createdAt: new Date().toISOString(), sourceEtag: stored.etag });
    return s3PutEvent(INPUT, originalKey(id), body.length);
  }

  it('marks images failed with the code of how the last attempt ended', async () => {
    const answer = await failures(
      failureRecordsEvent([
        { event: await stuck('oom'), errorType: 'Runtime.OutOfMemory', errorMessage: 'RequestId: 1 Error: Runtime exited with error: signal: killed' },
        { event: await stuck('killed'), errorMessage: 'Runtime exited with error: signal: killed' },
        { event: await stuck('slow'), errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 300.00 seconds' },
        { event: await stuck('slow-old'), errorMessage: '2026-11-27T10:00:00.000Z 1 Task timed out after 300.00 seconds' },
        { event: await stuck('threw'), errorType: 'S3ServiceException', errorMessage: 'Service Unavailable at /var/task/chunks/x.mjs' },
        { event: await stuck('aged'), condition: 'EventAgeExceeded' },
      ]),
    );
    expect(answer.batchItemFailures).toEqual([]);
    const codes = Object.fromEntries(await Promise.all(['oom', 'killed', 'slow', 'slow-old', 'threw', 'aged'].map(async (id) => [id, (await readManifest(output, id))?.error?.code])));
    expect(codes).toEqual({ oom: 'out_of_memory', killed: 'out_of_memory', slow: 'timeout', 'slow-old': 'timeout', threw: 'internal_error', aged: 'internal_error' });
    const threw = await readManifest(output, 'threw');
    expect(threw).toMatchObject({ status: 'failed', original: { filename: 'threw.jpg' } });
    expect(threw?.error?.message).not.toMatch(/var\/task|S3ServiceException/);
    // The API now reports an end, not `processing` for ever, and so does the webhook.
    expect(json(await call(restApiEvent('GET', '/v1/images/oom'))).status).toBe('failed');
    expect(deliveriesOf('oom')).toEqual(['image.failed']);

    // Redriving the dead-lettered S3 event, once the cause is fixed, processes the image after all.
    await processor(s3PutEvent(INPUT, originalKey('oom'), 1));
    expect(json(await call(restApiEvent('GET', '/v1/images/oom'))).status).toBe('done');
  });

  it('changes nothing for an image that is already done', async () => {
    const key = originalKey('finished.jpg');
    const body = await solid(320, 240, '#228844');
    await input.put(key, body);
    await processor(s3PutEvent(INPUT, key, body.length));
    const done = await readManifest(output, 'finished.jpg');
    expect(done?.status).toBe('done');
    await failures(failureRecordsEvent([{ event: s3PutEvent(INPUT, key, body.length), errorType: 'Runtime.OutOfMemory' }]));
    expect(await readManifest(output, 'finished.jpg')).toEqual(done);
  });

  it('made every S3 request with permissions its role has', () => {
    expect(gate.denied()).toEqual([]);
    expect(ssm.denied).toEqual([]);
  });
});

// What follows is refused on purpose; everything above must have been allowed.
describe('what S3 refuses: least privilege as the template grants it, and signed lengths', () => {
  const arn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const may = (name: keyof typeof HANDLERS, action: string, resource: string) => iam.isAllowed(iam.functionRole(HANDLERS[name]), action, resource);

  it('grants a ticket for a 20 MB photo, whose signed length S3 holds the PUT to', async () => {
    const size = 20 * 1024 * 1024;
    const ticket = await call(
      restApiEvent('POST', '/v1/uploads', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contentType: 'image/jpeg', size }) }),
    );
    expect(ticket.statusCode).toBe(201);
    const { id, upload } = json(ticket);
    const longer = await fetch(upload.url, { method: 'PUT', body: new Uint8Array(size + 1), headers: upload.headers });
    expect(longer.status).toBe(403);
    expect(await input.head(originalKey(id))).toBeUndefined();
  });

  it('never lets the processor or the failure handler write or delete originals', async () => {
    for (const fn of ['processor', 'failures'] as const) {
      expect(await may(fn, 's3:PutObject', arn(INPUT, 'originals/x'))).toBe(false);
      expect(await may(fn, 's3:DeleteObject', arn(INPUT, 'originals/x'))).toBe(false);
    }
    // And S3 says so to a real request, in its own words.
    const client = createS3Client({ endpoint: gate.endpoints.processor, forcePathStyle: true, region: 'us-east-1' });
    const refused = await client.send(new PutObjectCommand({ Bucket: INPUT, Key: 'originals/forged', Body: 'x' })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect((refused as S3ServiceException).name).toBe('AccessDenied');
    expect(await input.head('originals/forged')).toBeUndefined();
  });

  it('never lets the API write variants or manifests, nor the failure handler write variants', async () => {
    expect(await may('api', 's3:PutObject', arn(OUTPUT, 'some-id/manifest.json'))).toBe(false);
    expect(await may('api', 's3:PutObject', arn(OUTPUT, 'some-id/medium.jpg'))).toBe(false);
    expect(await may('failures', 's3:PutObject', arn(OUTPUT, 'some-id/medium.jpg'))).toBe(false);
    expect(await may('failures', 's3:DeleteObject', arn(OUTPUT, 'some-id/medium.jpg'))).toBe(false);
    const client = createS3Client({ endpoint: gate.endpoints.api, forcePathStyle: true, region: 'us-east-1' });
    const refused = await client.send(new PutObjectCommand({ Bucket: OUTPUT, Key: manifestKey('forged'), Body: '{}' })).catch((error: unknown) => error);
    expect((refused as S3ServiceException).name).toBe('AccessDenied');
    // It may remove an image's dedup record, never write one.
    const record = await client.send(new PutObjectCommand({ Bucket: INPUT, Key: 'dedup/anything', Body: '{}' })).catch((error: unknown) => error);
    expect((record as S3ServiceException).name).toBe('AccessDenied');
  });

  it('lets only the processor and the failure handler read the webhook secret', async () => {
    const parameter = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${SECRET_PARAMETER}`;
    expect(await may('processor', 'ssm:GetParameter', parameter)).toBe(true);
    expect(await may('failures', 'ssm:GetParameter', parameter)).toBe(true);
    expect(await may('api', 'ssm:GetParameter', parameter)).toBe(false);
    expect(await may('processor', 'ssm:GetParameter', `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/other`)).toBe(false);
    expect(apiEnvironment.WEBHOOK_SECRET_PARAMETER).toBeUndefined();
  });

  it('lets nobody read what it does not need', async () => {
    expect(await may('processor', 's3:GetObject', arn(INPUT, 'idempotency/x'))).toBe(false);
    expect(await may('api', 's3:GetObject', arn(INPUT, 'dedup/x'))).toBe(false);
    expect(await may('failures', 's3:GetObject', arn(INPUT, 'dedup/x'))).toBe(false);
    // The processor keeps no dedup records on AWS.
    expect(await may('processor', 's3:GetObject', arn(INPUT, 'dedup/x'))).toBe(false);
    expect(await may('processor', 's3:PutObject', arn(INPUT, 'dedup/x'))).toBe(false);
    expect(await may('failures', 's3:GetObject', arn(OUTPUT, 'some-id/large.jpg'))).toBe(false);
    for (const fn of Object.keys(HANDLERS) as (keyof typeof HANDLERS)[]) {
      expect(await may(fn, 's3:GetObject', 'arn:aws:s3:::some-other-bucket/x')).toBe(false);
    }
  });
});

describe('Lambda bundles on a storage outage', () => {
  it('the processor throws, so Lambda retries and then dead-letters the event', async () => {
    await s3.close();
    await expect(processor(s3PutEvent(INPUT, originalKey('any.jpg'), 10))).rejects.toThrow();
  });

  it('the failure handler hands the message back to SQS', async () => {
    const answer = await failures(failureRecordsEvent([{ event: s3PutEvent(INPUT, originalKey('any.jpg'), 10), errorType: 'Runtime.OutOfMemory' }]));
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
  });
});
