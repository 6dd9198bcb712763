import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { webhookEvent } from '../http/image-view.js';
import { createMetrics, outcomeMetrics } from '../http/metrics.js';
import { createSignedDelivery } from '../http/signed-delivery.js';
import { createUrlSigner } from '../http/signed-url.js';
import { createRenderHost } from '../imaging/render-host.js';
import { createGate } from '../processing/gate.js';
import type { Manifest } from '../processing/manifest.js';
import { createOutcomeReporter } from '../processing/outcome-reporter.js';
import { createProcessor } from '../processing/processor.js';
import { createWebhook } from '../processing/webhook.js';
import { openBuckets } from '../storage/backends.js';
import { createLocalRunner } from './local-runner.js';

/**
 * The local runtime's composition root: every part the server is made of, from the configuration.
 * The buckets of STORAGE; links and upload URLs this server signs and answers itself (whatever the
 * store, so a page works the same on folders and on an S3-compatible server); a processor whose
 * renders share CONCURRENCY slots, on-demand renders in processes of their own; Prometheus metrics
 * and the webhook as the outcome reporter; the work queue that runs it all.
 */
export function localRoot(config: Config, logger: Logger) {
  const buckets = openBuckets(config);
  const renderGate = createGate(config.concurrency);
  // The API shares this process and asks the queue what is under way (AppDeps.isProcessing): no
  // `processing` manifest, a file write per image that only said so.
  const processor = createProcessor({ input: buckets.input, output: buckets.output, config, renderGate, marksProcessing: false });
  // On-demand renders are asked for by links anyone may hold: each runs in a process ended at its
  // deadline, in slots of their own or in a processing slot that is idle (renderGate.tryTake).
  const renderHost = createRenderHost(config.onDemand.concurrency + config.concurrency);
  const metrics = createMetrics(() => queue.depth);
  const webhook = config.webhook ? createWebhook({ ...config.webhook, logger }) : undefined;
  const report = createOutcomeReporter({
    log: logger,
    metrics: outcomeMetrics(metrics),
    ...(webhook ? { notify: (manifest: Manifest) => webhook(manifest.id, webhookEvent(manifest)) } : {}),
  });
  const queue = createLocalRunner({ processor, report, logger, concurrency: config.concurrency });
  const delivery = createSignedDelivery(createUrlSigner(config.urlSigningSecret));
  return { buckets, renderHost, renderGate, metrics, queue, delivery };
}
