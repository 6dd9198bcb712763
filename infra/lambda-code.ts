import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, Runtime, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Settings } from './settings.js';

/** Where this stack's metrics go, apart from any other stack's in the same account and region. */
export const metricsNamespace = (scope: Construct) => `ImageProcessor/${Stack.of(scope).stackName}`;

/**
 * What every function shares: the runtime, the architecture, one asset, the two buckets, and the
 * environment that finds the font. `service` names the function in Powertools' logs and metrics.
 */
export function lambdaBasics(settings: Settings, buckets: { input: Bucket; output: Bucket }, service: string) {
  if (!existsSync(settings.assetDir)) {
    throw new Error(`The Lambda asset ${settings.assetDir} is missing: run \`npm run stage\` (or \`npm run synth\`, which does it).`);
  }
  return {
    ...(settings.watermarkImage ? { layers: [logoLayer(Stack.of(buckets.input), settings.watermarkImage)] } : {}),
    runtime: Runtime.NODEJS_22_X,
    architecture: settings.architecture === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64,
    code: Code.fromAsset(settings.assetDir),
    environment: {
      STORAGE: 's3',
      // Lambda has no fonts: the watermark font and a fontconfig that knows only it ship in the asset.
      WATERMARK_FONT_FILE: '/var/task/fonts/DejaVuSans-Bold.ttf',
      FONTCONFIG_PATH: '/var/task/fonts',
      // glibc's per-thread arenas fragment libvips' memory; two keep a 512 MB function well inside its limit.
      MALLOC_ARENA_MAX: '2',
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(buckets.input),
      POWERTOOLS_SERVICE_NAME: service,
      INPUT_BUCKET: buckets.input.bucketName,
      OUTPUT_BUCKET: buckets.output.bucketName,
      ...settings.processing,
    },
  };
}

/** The logo (-c WATERMARK_IMAGE=) as a layer, made once per stack: its file lands in LOGO_DIR. */
function logoLayer(stack: Stack, path: string): ILayerVersion {
  const existing = stack.node.tryFindChild('WatermarkImage') as ILayerVersion | undefined;
  if (existing) return existing;
  const dir = mkdtempSync(join(tmpdir(), 'watermark-layer-'));
  mkdirSync(join(dir, 'watermark'));
  copyFileSync(path, join(dir, 'watermark', basename(path)));
  return new LayerVersion(stack, 'WatermarkImage', { code: Code.fromAsset(dir), description: 'The watermark logo (WATERMARK_IMAGE).' });
}

/** An SQS queue as every one of ours is: encrypted, TLS only, messages kept 14 days. */
export function secureQueue(scope: Construct, id: string, props: QueueProps = {}): Queue {
  return new Queue(scope, id, { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14), ...props });
}

export const logRetention = (days: number): RetentionDays => {
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0).sort((a, b) => a - b);
  return allowed.find((v) => v >= days) ?? RetentionDays.INFINITE;
};
