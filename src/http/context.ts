import type { Log } from '../logging.js';
import type { Config } from '../config/config.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Metrics } from './metrics.js';
import type { Delivery } from './delivery.js';

export type AppConfig = Pick<
  Config,
  'maxUploadBytes' | 'maxInputPixels' | 'allowSvg' | 'apiKeys' | 'corsOrigins' | 'signedUrlTtlSeconds' | 'watermark'
>;

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
}
