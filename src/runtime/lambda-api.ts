import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { loadConfig } from '../config/config.js';
import { AppError } from '../errors.js';
import { createApp } from '../http/app.js';
import { askForCredentials } from '../http/credential-refusals.js';
import type { Owner } from '../lifecycle/owner.js';
import { createMetrics } from '../http/metrics.js';
import { powertoolsLog } from './powertools-log.js';
import { awsRoot } from './aws-root.js';

/**
 * The largest raw body `POST /v1/images` can take through API Gateway: the body arrives base64
 * encoded in the event (4/3 of it), and with 64 KiB for the rest of the event that must fit in
 * Lambda's 6,291,456-byte synchronous request. Larger files go through `POST /v1/uploads`.
 */
export const LAMBDA_POST_LIMIT = 4_669_440;

const loaded = loadConfig();
const config = { ...loaded, maxPostBytes: Math.min(loaded.maxPostBytes, LAMBDA_POST_LIMIT) };
const root = awsRoot(config);
const { input, output } = root.buckets;
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'image-processor-api' });
const delivery = await root.delivery();

/**
 * The API Lambda: the same Hono app as the local server, behind API Gateway (whose authorizer checks
 * tokens, and which checks API keys). Uploads and downloads go straight to S3 through presigned URLs;
 * the page is served from the `web/` folder beside this bundle.
 */
const app = createApp({
  config,
  input,
  output,
  logger: powertoolsLog(logger),
  metrics: createMetrics(),
  delivery,
  spoolDir: join(tmpdir(), 'uploads'),
  webRoot: fileURLToPath(new URL('./web/', import.meta.url)),
  // API Gateway and its authorizer checked the caller: the owner is the signed-in user, or the key.
  identify: (c) => ownerOf((c.env as { event?: LambdaEvent } | undefined)?.event),
  enqueue: root.enqueue,
  marksPending: false,
  listsEveryImage: false,
});

/** The API key that stands for every signed-in user in their usage plan: never an owner itself. */
const usersKeyId = process.env.USERS_API_KEY_ID;

/**
 * Who is calling, as API Gateway hands it over: the owner id the authorizer derived from a
 * signed-in user's token, or else the id of the API key API Gateway accepted (each key its own
 * owner). Neither (a request that bypassed both) is refused.
 */
function ownerOf(event: LambdaEvent | undefined): Owner {
  const context = event?.requestContext as { authorizer?: { owner?: string } | null; identity?: { apiKeyId?: string | null } } | undefined;
  const user = context?.authorizer?.owner;
  if (user) return { id: user };
  const keyId = context?.identity?.apiKeyId;
  if (keyId && keyId !== usersKeyId) return { id: keyId };
  throw new AppError(401, 'unauthorized', askForCredentials(true));
}

const handleRequest = handle(app);

export async function handler(event: LambdaEvent, context: Context) {
  // Every log line of this invocation carries the Lambda request id.
  logger.addContext(context);
  return handleRequest(event, context);
}
