import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership, StorageClass, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IDEMPOTENCY_WINDOW_MS } from '../src/lifecycle/idempotency.js';
import { DEDUP_PREFIX, IDEMPOTENCY_PREFIX, PENDING_PREFIX } from '../src/processing/keys.js';
import type { Settings } from './settings.js';

/** How long a dedup record is kept: an identical re-upload comes soon or rarely at all. */
export const DEDUP_RECORD_DAYS = 30;

/** Longer than any Lambda run with its retries and the failure queue's 14 days. */
export const PENDING_MARKER_DAYS = 15;

/**
 * The input and output buckets: private, TLS only, encrypted, with request metrics, server access
 * logs, and lifecycle rules (abandoned multipart uploads, Glacier Instant Retrieval, retention).
 */
export class Buckets extends Construct {
  readonly input: Bucket;
  readonly output: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, settings: Settings) {
    super(scope, id);
    const secure = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    };

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });

    const retention: LifecycleRule[] = settings.retentionDays > 0 ? [{ id: 'Retention', expiration: Duration.days(settings.retentionDays) }] : [];
    const abortUploads: LifecycleRule = { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

    // The API's idempotency records answer retries for 24 hours; the processor's dedup records are a cache.
    const records: LifecycleRule[] = [
      { id: 'IdempotencyRecords', prefix: IDEMPOTENCY_PREFIX, expiration: Duration.days(Math.ceil(IDEMPOTENCY_WINDOW_MS / 86_400_000) + 1) },
      { id: 'DedupRecords', prefix: DEDUP_PREFIX, expiration: Duration.days(DEDUP_RECORD_DAYS) },
      // Pending markers serve a local restart; on AWS the processor or failure handler removes each, and one left over goes.
      { id: 'PendingMarkers', prefix: PENDING_PREFIX, expiration: Duration.days(PENDING_MARKER_DAYS) },
    ];

    this.input = new Bucket(this, 'Input', {
      ...secure,
      // The page PUTs originals straight here through presigned URLs.
      cors: [
        {
          allowedMethods: [HttpMethods.PUT],
          allowedOrigins: settings.corsOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      transferAcceleration: true,
      lifecycleRules: [abortUploads, ...records, ...retention],
      metrics: [{ id: 'EntireBucket' }],
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'input/',
    });

    this.output = new Bucket(this, 'Output', {
      ...secure,
      cors: [{ allowedMethods: [HttpMethods.GET, HttpMethods.HEAD], allowedOrigins: settings.corsOrigins, allowedHeaders: ['*'], maxAge: 3000 }],
      lifecycleRules: [
        abortUploads,
        // Older outputs stay downloadable at once, for less per GB (pointless when they expire first).
        ...(settings.retentionDays === 0 || settings.retentionDays > settings.glacierAfterDays
          ? [{ id: 'GlacierInstantRetrieval', transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(settings.glacierAfterDays) }] }]
          : []),
        ...retention,
      ],
      metrics: [{ id: 'EntireBucket' }],
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'output/',
    });
  }
}
