import type { Logger } from 'pino';
import { IN_FLIGHT_PER_RENDER_SLOT } from '../processing/gate.js';
import type { OutcomeReporter } from '../processing/outcome-reporter.js';
import type { Processor } from '../processing/processor.js';
import { createWorkQueue, type WorkQueue } from '../processing/work-queue.js';
import { withRetry } from '../storage/retry.js';

/**
 * The local processing runner: a work queue of `concurrency` render slots' worth of images, each run
 * retried on storage hiccups and reported; a run that still fails is recorded as `internal_error`
 * (what the failure handler does on AWS).
 */
export function createLocalRunner({ processor, report, logger, concurrency }: { processor: Processor; report: OutcomeReporter; logger: Logger; concurrency: number }): WorkQueue {
  return createWorkQueue(concurrency * IN_FLIGHT_PER_RENDER_SLOT, async (id, written) => {
    try {
      // Storage hiccups are retried with back-off; imaging failures never throw, so never repeat.
      // The webhook is not awaited: a slow receiver must not hold a worker.
      void report.outcome(await withRetry(() => processor.process(id, { written }), 3, 200));
    } catch (error) {
      logger.error({ id, err: error }, 'processing error');
      try {
        const manifest = await processor.markFailed(id, 'internal_error', 'The image could not be stored or read; upload it again.');
        if (manifest) void report.failure(manifest);
      } catch (markError) {
        logger.error({ id, err: markError }, 'could not record the failure');
      }
    }
  });
}
