import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OutcomeMetrics } from '../processing/outcome-reporter.js';

export interface Metrics {
  registry: Registry;
  uploads: Counter;
  processed: Counter<'status'>;
  failed: Counter<'code'>;
  processingSeconds: Histogram;
  requests: Counter<'method' | 'status'>;
}

/** One registry per app (not prom-client's global one), so several apps can live in one process. */
export function createMetrics(queueDepth: () => number = () => 0): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    uploads: new Counter({ name: 'imageproc_uploads_total', help: 'Originals accepted for processing.', registers: [registry] }),
    processed: new Counter({ name: 'imageproc_images_processed_total', help: 'Images that reached a final status.', labelNames: ['status'], registers: [registry] }),
    failed: new Counter({ name: 'imageproc_images_failed_total', help: 'Images that failed, by error code.', labelNames: ['code'], registers: [registry] }),
    processingSeconds: new Histogram({
      name: 'imageproc_processing_duration_seconds',
      help: 'Time from the start of processing to the final manifest.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    requests: new Counter({ name: 'imageproc_http_requests_total', help: 'HTTP requests by method and status.', labelNames: ['method', 'status'], registers: [registry] }),
  };
  new Gauge({
    name: 'imageproc_queue_depth',
    help: 'Images waiting for a worker.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  return metrics;
}

/** The outcome metrics (see processing/outcome-reporter.ts) on this registry. */
export function outcomeMetrics(metrics: Metrics): OutcomeMetrics {
  return {
    done(outcome) {
      metrics.processed.inc({ status: 'done' });
      metrics.processingSeconds.observe(outcome.durationMs / 1000);
    },
    failed(code, outcome) {
      metrics.failed.inc({ code });
      if (!outcome) return;
      metrics.processed.inc({ status: 'failed' });
      metrics.processingSeconds.observe(outcome.durationMs / 1000);
    },
  };
}
