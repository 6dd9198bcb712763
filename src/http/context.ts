import type { Context } from 'hono';
import type { Log } from '../logging.js';
import type { Config } from '../config/config.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Owner } from '../lifecycle/owner.js';
import type { ImagesDeps } from '../lifecycle/images.js';
import type { RenderHost } from '../imaging/render-host.js';
import type { Metrics } from './metrics.js';
import type { Delivery } from '../storage/delivery-port.js';
import type { Stages } from '../processing/stage-clock.js';

export type AppConfig = Pick<
  Config,
  | 'maxUploadBytes'
  | 'maxPostBytes'
  | 'maxInputPixels'
  | 'allowSvg'
  | 'apiKeys'
  | 'oidc'
  | 'ownerIdSecret'
  | 'corsOrigins'
  | 'signedUrlTtlSeconds'
  | 'watermark'
  | 'variants'
  | 'outputFormat'
  | 'outputFormats'
  | 'quality'
  | 'maxAnimationFrames'
  | 'processTimeoutMs'
  | 'concurrency'
  | 'onDemand'
  | 'memoryLimitMb'
  | 'maxConcurrentUploads'
  | 'maxQueueDepth'
  | 'rateLimitPerMinute'
  | 'uploadIdleTimeoutMs'
  | 'minUploadBytesPerSecond'
  | 'maxUploadsPerKey'
  | 'maxWaitingUploadsPerKey'
  | 'uploadSlotWaitMs'
  | 'metricsToken'
>;

/** Per-request values the middleware sets for the routes. */
export interface AppEnv {
  Variables: {
    /** The caller; undefined when authentication is off. */
    owner: Owner | undefined;
    /** Where an upload's time went (receive, store), for the request's log line. */
    stages?: Stages;
  };
}

/** Everything the HTTP app needs, handed in by a runtime: no globals, so tests can build one per case. */
export interface AppDeps {
  config: AppConfig;
  input: ObjectStore;
  output: ObjectStore;
  logger: Log;
  metrics: Metrics;
  delivery: Delivery;
  /** Where uploads are spooled while they are checked. */
  spoolDir: string;
  /** The folder of the web page; absent means no page. */
  webRoot?: string;
  now?: () => Date;
  /**
   * Who is calling, when something in front of the app authenticated the request (API Gateway and
   * its authorizer, on Lambda). Without it the app checks bearer tokens and API keys itself.
   */
  identify?: (c: Context<AppEnv>) => Owner;
  /** The file of machine keys `image-processor keys` manages, read again when it changes (locally). */
  keyFile?: string;
  /** Images waiting for a worker, where this process has the queue; uploads are refused past MAX_QUEUE_DEPTH. */
  queueDepth?: () => number;
  /** Starts processing an original again (`POST /v1/images/{id}/reprocess`). */
  enqueue?: ImagesDeps['enqueue'];
  /** False where S3 events drive the processor (ImagesDeps.marksPending). */
  marksPending?: boolean;
  /** False on AWS, where nothing reads the index of every image (ImagesDeps.listsEveryImage). */
  listsEveryImage?: boolean;
  /** Where on-demand renders run (a render host, locally); by default in this process. */
  renderOnDemand?: RenderHost['render'];
  /** Render links were handed out: start what renders run in now, so the first ones do not wait for it. */
  prepareRenders?: () => void;
  /** A slot of the processor's render gate that is idle with nothing waiting for it, lent to an on-demand render. */
  borrowRenderSlot?: () => (() => void) | undefined;
  /** Resolves when the image's queued processing has ended (true), or at once when none is queued (false), where this process has the queue. */
  whenProcessed?: (id: string) => Promise<boolean>;
  /**
   * Whether the image is being processed now, where this process has the queue: an image without a
   * manifest is then `processing`, not `pending` (the local processor writes no `processing` manifest).
   */
  isProcessing?: (id: string) => boolean;
}
