import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { ConfigError, isLoopbackHost, type Config } from '../config/config.js';
import { createApp } from '../http/app.js';
import { keyFilePath } from '../http/key-file.js';
import { tuneSharp } from '../imaging/tuning.js';
import { prepareWatermarks } from '../imaging/watermark.js';
import { ORIGINALS_PREFIX } from '../processing/keys.js';
import { findUnfinished } from '../processing/recovery.js';
import { indexOnce } from '../lifecycle/reindex.js';
import { cleanStopRecord } from './clean-stop.js';
import { sweepExpired } from '../lifecycle/retention.js';
import type { WorkQueue } from '../processing/work-queue.js';
import { tempDir } from '../storage/fs-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { drainRefusedBodies } from './drain-refused.js';
import { keptSecret } from './kept-secret.js';
import { localRoot } from './local-root.js';
import { startLocalTrigger } from './local-trigger.js';
import { checkStartUp } from './start-up-checks.js';

export interface LocalServer {
  url: string;
  input: ObjectStore;
  output: ObjectStore;
  queue: WorkQueue;
  /** Resolves when the start-up scan for unfinished originals has queued them all. */
  recovered: Promise<void>;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** A refused body is read to its end if it is no larger than an upload may be (plus framing), within this time. */
const REFUSED_BODY_SLACK_BYTES = 1024 * 1024;
const REFUSED_BODY_DRAIN_MS = 15_000;

/** True when the server asks who is calling: sign-in, API_KEYS, or a key file (even one whose keys are all revoked). */
export const authenticates = (config: Config, keyFile = keyFilePath(config.dataDir)) => Boolean(config.oidc) || config.apiKeys.length > 0 || existsSync(keyFile);

const MIN_PUBLIC_KEY_LENGTH = 16;

/**
 * The embedded runtime: folders as buckets, the store's object-created events feeding a bounded
 * worker pool, the HTTP app on Node's server, and a start-up scan that finishes what a crash left.
 */
export async function startLocalServer(config: Config, options: { logger?: Logger; webRoot?: string } = {}): Promise<LocalServer> {
  const keyFile = keyFilePath(config.dataDir);
  if (!authenticates(config, keyFile) && !isLoopbackHost(config.host)) {
    throw new ConfigError(`HOST=${config.host} would expose an API without authentication; set OIDC_ISSUER or API_KEYS, create a key (image-processor keys create), or use HOST=127.0.0.1.`);
  }
  // Reachable from elsewhere, a short key is guessed; one given by its hash was chosen elsewhere.
  if (!isLoopbackHost(config.host) && config.apiKeys.some((key) => !key.startsWith('sha256:') && key.length < MIN_PUBLIC_KEY_LENGTH)) {
    throw new ConfigError(`HOST=${config.host} is reachable from other machines: every key in API_KEYS needs at least ${MIN_PUBLIC_KEY_LENGTH} characters.`);
  }
  await checkStartUp(config);
  const logger = options.logger ?? pino({ level: config.logLevel });
  tuneSharp();
  // Temporary files belong to writes that a crash interrupted; none of them was acknowledged.
  await rm(tempDir(config.dataDir), { recursive: true, force: true });

  const { buckets, renderHost, renderGate, metrics, queue, delivery } = localRoot(config, logger);
  const { input, output } = buckets;
  // Listening before the server takes its first upload.
  const stopTrigger = await startLocalTrigger(buckets, queue, logger);

  // Owner ids outlive the process: derived from a secret kept beside the buckets unless one is given
  // (made even before any key exists, since `image-processor keys create` adds keys while the server runs).
  const ownerIdSecret = config.ownerIdSecret ?? (await keptSecret(join(config.dataDir, '.secrets', 'owner-id')));
  const app = createApp({
    config: { ...config, ownerIdSecret },
    keyFile,
    input,
    output,
    logger,
    metrics,
    delivery,
    spoolDir: join(tempDir(config.dataDir), 'uploads'),
    queueDepth: () => queue.depth,
    enqueue: (id) => queue.enqueue(id),
    whenProcessed: (id) => queue.settled(id),
    isProcessing: (id) => queue.isRunning(id),
    renderOnDemand: renderHost.render,
    prepareRenders: renderHost.prepare,
    borrowRenderSlot: renderGate.tryTake,
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
  });

  // The adapter's own clean-up cuts a refused body after 500 ms; ours reads it to the end (drain-refused.ts).
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port, autoCleanupIncoming: false }) as Server;
  drainRefusedBodies(server, { bytes: config.maxUploadBytes + REFUSED_BODY_SLACK_BYTES, ms: REFUSED_BODY_DRAIN_MS });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  void prepareWatermarks(config.watermark, config.variants.map((variant) => variant.width)).catch((error: unknown) => {
    logger.warn({ err: error }, 'could not render the watermark ahead');
  });

  // Unfinished work: the marked images, and (unless the folder is as a clean stop left it) originals with no outputs.
  const cleanStop = buckets.stateFolder && buckets.inputFolder ? cleanStopRecord(join(buckets.stateFolder, 'clean-stop'), buckets.inputFolder(ORIGINALS_PREFIX)) : undefined;
  const recovered = (async () => {
    await indexOnce(input, output, logger);
    const byName = !(await cleanStop?.unchangedSinceStop());
    const ids = await findUnfinished(input, output, { byName });
    ids.forEach((id) => queue.enqueue(id));
    logger.info({ queued: ids.length, byName }, 'start-up scan done');
  })().catch((error: unknown) => logger.error({ err: error }, 'start-up scan failed'));

  const sweep = () =>
    sweepExpired(input, output, config.retentionDays, new Date()).then(
      (removed) => removed.length > 0 && logger.info({ count: removed.length, retentionDays: config.retentionDays }, 'removed expired images'),
      (error: unknown) => logger.error({ err: error }, 'retention sweep failed'),
    );
  const sweeper = config.retentionDays > 0 ? setInterval(() => void sweep(), SWEEP_INTERVAL_MS).unref() : undefined;
  if (sweeper) void recovered.then(sweep);

  return {
    url,
    input,
    output,
    queue,
    recovered,
    async close() {
      clearInterval(sweeper);
      await recovered;
      await cleanStop?.stopping();
      stopTrigger();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      renderHost.close();
    },
  };
}
