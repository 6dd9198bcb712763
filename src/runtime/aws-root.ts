import type { Config } from '../config/config.js';
import { createSignedDelivery } from '../http/signed-delivery.js';
import { createUrlSigner } from '../http/signed-url.js';
import { announceAgain } from '../lifecycle/images.js';
import { createProcessor } from '../processing/processor.js';
import { openS3Buckets } from '../storage/backends.js';
import type { Delivery } from '../storage/delivery-port.js';
import { createStoreDelivery } from '../storage/store-delivery.js';
import { readSecretParameter } from './read-ssm-secret.js';
import { checkStartUp } from './start-up-checks.js';

/**
 * The AWS runtime's composition root: the parts each Lambda function is made of, from the
 * configuration. The S3 buckets; delivery by presigned S3 URLs; the trigger (S3's ObjectCreated
 * event, raised again for a reprocess); the processor; Powertools reporting and the webhook. A new
 * runtime on AWS (a container consuming the events from SQS, say) takes its parts from here.
 */
export function awsRoot(config: Config) {
  const buckets = openS3Buckets(config);
  return {
    buckets,
    checkStartUp: () => checkStartUp(config),
    // S3 events, Lambda's retries and the failure handler find unfinished work: no pending markers.
    // Every request is billed: no `processing` manifest and no dedup record either (see createProcessor).
    processor: () => createProcessor({ input: buckets.input, output: buckets.output, config, marksPending: false, listsEveryImage: false, marksProcessing: false, reusesTwins: false }),
    // Imported when asked for: the API function reports no outcomes and parses none of it at a cold start.
    reporting: async (service: string) => (await import('./lambda-reporting.js')).lambdaReporting(service, config.webhook),
    /** A reprocess is a new ObjectCreated event, which is how the processor function hears of work. */
    enqueue: announceAgain(buckets.input),
    /**
     * Presigned S3 URLs; the API's own links (on-demand renders) are signed with a secret every
     * container shares, from SSM, and without one no link of the API's own is valid.
     */
    async delivery(): Promise<Delivery> {
      const secret = config.urlSigningSecret ?? (config.urlSigningSecretParameter ? await readSecretParameter(config.urlSigningSecretParameter, 'URL_SIGNING_SECRET_PARAMETER') : undefined);
      const own = secret ? createSignedDelivery(createUrlSigner(secret)) : undefined;
      return createStoreDelivery(buckets, own?.apiLink ? { apiLink: own.apiLink, verifyLink: own.verifyLink } : undefined);
    },
  };
}
