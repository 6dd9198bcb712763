import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import type { AppDeps } from '../../src/http/context.js';
import { createSignedDelivery } from '../../src/http/signed-delivery.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createUrlSigner } from '../../src/http/signed-url.js';
import { createFsStore } from '../../src/storage/fs-store.js';

/**
 * The HTTP app on folders under `dataDir`, without a server (`app.request`), for what only a
 * stand-in runtime can arrange: a queue of a given depth, processing that ends when the test says,
 * a request from another machine.
 */
export function appOn(dataDir: string, env: Record<string, string>, extra: Partial<AppDeps> = {}) {
  const config = loadConfig({ DATA_DIR: dataDir, ...env });
  return createApp({
    config,
    input: createFsStore(dataDir, config.inputBucket),
    output: createFsStore(dataDir, config.outputBucket),
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    delivery: createSignedDelivery(createUrlSigner()),
    spoolDir: join(dataDir, 'spool'),
    ...extra,
  });
}
