import type { Log } from '../logging.js';
import type { Manifest } from './manifest.js';
import type { ProcessOutcome } from './processor.js';

type Done = Extract<ProcessOutcome, { status: 'done' }>;
type Failed = Extract<ProcessOutcome, { status: 'failed' }>;

/** Where the end of an image is counted: Prometheus locally, CloudWatch (Powertools) on Lambda. */
export interface OutcomeMetrics {
  done(outcome: Done): void;
  /** Any failure: of the image (with its outcome), or of the run that processed it (without). */
  failed(code: string, outcome?: Failed): void;
}

export interface OutcomeSinks {
  log: Log;
  metrics: OutcomeMetrics;
  /** Tells a receiver an image ended; resolves when the delivery does (see webhook.ts). */
  notify?: (manifest: Manifest) => Promise<boolean>;
}

/**
 * How the end of an image is reported, the same by the local runner, the processor Lambda and the
 * failure handler: one log line, the metrics, the webhook. Each call returns the webhook delivery,
 * if any: the local runner lets it run, a Lambda awaits it before it freezes.
 */
export function createOutcomeReporter({ log, metrics, notify }: OutcomeSinks) {
  return {
    outcome(outcome: ProcessOutcome): Promise<boolean> | undefined {
      if (outcome.status === 'skipped') {
        log.debug({ id: outcome.id, reason: outcome.reason }, 'skipped');
        return undefined;
      }
      if (outcome.status === 'done') {
        metrics.done(outcome);
        log.info({ id: outcome.id, status: 'done', durationMs: outcome.durationMs, variants: outcome.variants, ...(outcome.stages ? { stages: outcome.stages } : {}) }, 'processed');
      } else {
        metrics.failed(outcome.error.code, outcome);
        log.warn({ id: outcome.id, status: 'failed', durationMs: outcome.durationMs, error: outcome.error }, 'processed');
      }
      return notify?.(outcome.manifest);
    },

    /** A failure recorded outside the imaging work (storage, or a run killed for memory or time). */
    failure(manifest: Manifest): Promise<boolean> | undefined {
      const code = manifest.error?.code ?? 'internal_error';
      metrics.failed(code);
      log.warn({ id: manifest.id, status: 'failed', error: manifest.error }, 'marked failed');
      return notify?.(manifest);
    },
  };
}

export type OutcomeReporter = ReturnType<typeof createOutcomeReporter>;
