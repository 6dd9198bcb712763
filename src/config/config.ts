import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as z from 'zod';
import { AUTO_OUTPUT, OUTPUT_FORMATS, type OutputFormat } from '../formats/formats.js';
import { readLogo, type Logo } from './logo-file.js';
import { MAX_SIDE, parseVariants, parseVariantsFile, VARIANT_FORM, type VariantSpec } from './variants.js';

export const WATERMARK_POSITIONS = [
  'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest', 'center',
] as const;
export type WatermarkPosition = (typeof WATERMARK_POSITIONS)[number];

const MiB = 1024 * 1024;

const int = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const fraction = (() => {
  const error = 'expected a number from 0 to 1';
  return z.coerce.number({ error }).min(0, { error }).max(1, { error });
})();

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name' });

const bool = z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).transform((v) => v === 'true' || v === '1');

const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

const presets = (read: (value: string) => string) =>
  z.string().transform((value, ctx): VariantSpec[] => {
    try {
      return parseVariantsFile(read(value));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const readText = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error('cannot be read');
  }
};

const variants = z.string().transform((value, ctx): VariantSpec[] => {
  try {
    return parseVariants(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `${(error as Error).message}; expected ${VARIANT_FORM}` });
    return z.NEVER;
  }
});

/** The storage backends there are (a row each in storage/backends.ts). */
export const STORAGE_KINDS = ['fs', 's3'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/**
 * Every environment variable the service reads, with its default. The README's table mirrors this.
 * Empty strings count as unset, so `WATERMARK_TEXT=` in a .env file means "default".
 */
const Env = z.object({
  VARIANTS: variants.default(parseVariants('thumbnail:150x150:cover,medium:800x800:inside,large:1600x1600:inside')),
  // Presets with options: a JSON file (VariantsFileSchema), or its text (how the CDK app passes it to Lambda).
  VARIANTS_FILE: presets(readText).optional(),
  VARIANTS_JSON: presets((text) => text).optional(),
  OUTPUT_FORMAT: z.enum([...OUTPUT_FORMATS, 'auto'], { error: `expected ${OUTPUT_FORMATS.join(', ')} or auto` }).default(AUTO_OUTPUT.opaque),
  OUTPUT_FORMATS: list
    .refine((formats) => formats.every((f) => (OUTPUT_FORMATS as readonly string[]).includes(f)), { error: `expected a comma-separated list of ${OUTPUT_FORMATS.join(', ')}` })
    .optional(),
  QUALITY: int(1, 100).default(80),
  WATERMARK_TEXT: z.string().max(200, { error: 'expected at most 200 characters' }).default(''),
  WATERMARK_POSITION: z.enum(WATERMARK_POSITIONS, { error: `expected one of ${WATERMARK_POSITIONS.join(', ')}` }).default('southeast'),
  WATERMARK_OPACITY: fraction.default(0.5),
  WATERMARK_MIN_WIDTH: int(0, 100_000).default(300),
  WATERMARK_IMAGE: z.string().transform((path, ctx): Logo => {
    try {
      return readLogo(path);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }).optional(),
  WATERMARK_SCALE: z.coerce.number({ error: 'expected a number above 0, up to 1' }).gt(0, { error: 'expected a number above 0, up to 1' }).max(1, { error: 'expected a number above 0, up to 1' }).default(0.2),
  MAX_UPLOAD_BYTES: int(1, 5 * 1024 * MiB).default(50 * MiB),
  MAX_POST_BYTES: int(1, 5 * 1024 * MiB).optional(),
  MAX_INPUT_PIXELS: int(1, 2 ** 32).default(100_000_000),
  CONCURRENCY: int(1, 256).default(availableParallelism()),
  RETENTION_DAYS: int(0, 36_500).default(0),
  STORAGE: z.enum(STORAGE_KINDS, { error: `expected ${STORAGE_KINDS.join(' or ')}` }).default('fs'),
  DATA_DIR: z.string().default('./data'),
  INPUT_BUCKET: bucketName.default('image-processor-input-bucket'),
  OUTPUT_BUCKET: bucketName.default('image-processor-output-bucket'),
  S3_ENDPOINT: z.url({ error: 'expected a URL such as http://127.0.0.1:9000' }).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_ACCELERATE: bool.default(false),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as eu-west-1' }).optional(),
  ALLOW_SVG: bool.default(false),
  MAX_ANIMATION_FRAMES: int(1, 10_000).default(100),
  PROCESS_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  CORS_ORIGINS: list.default([]),
  MAX_CONCURRENT_UPLOADS: int(1, 10_000).default(64),
  MAX_QUEUE_DEPTH: int(1, 1_000_000).default(1000),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(0),
  UPLOAD_IDLE_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  MIN_UPLOAD_BYTES_PER_SECOND: int(0, 1_000_000_000).default(1024),
  MAX_UPLOADS_PER_KEY: int(1, 10_000).default(8),
  // A bulk client's uploads past its share wait in line instead of being refused: 8 stream, 32 wait.
  MAX_WAITING_UPLOADS_PER_KEY: int(0, 10_000).default(32),
  UPLOAD_SLOT_WAIT_MS: int(0, 600_000).default(30_000),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65_535).default(3000),
  API_KEYS: list
    .refine((keys) => keys.every((key) => !key.startsWith('sha256:') || /^sha256:[0-9a-f]{64}$/i.test(key)), {
      error: 'expected keys, or sha256:<64 hex digits> for a key given by its hash',
    })
    .default([]),
  OIDC_ISSUER: z
    .url({ error: 'expected the issuer URL, such as https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC' })
    .refine((url) => isAcceptedIssuer(new URL(url)), { error: 'expected an https:// URL (http:// only on a loopback address), without query or fragment' })
    .optional(),
  OIDC_CLIENT_ID: z.string().regex(/^[\x21-\x7e]{1,256}$/, { error: 'expected the client id the issuer gave the page' }).optional(),
  OIDC_AUDIENCE: z.string().regex(/^[\x21-\x7e]{1,1024}$/, { error: 'expected the audience access tokens carry' }).optional(),
  ONDEMAND_MAX_PIXELS: int(1, 100_000_000).default(4_000_000),
  ONDEMAND_WIDTHS: list
    .refine((widths) => widths.every((w) => /^\d{1,5}$/.test(w) && Number(w) >= 1 && Number(w) <= MAX_SIDE), { error: `expected a comma-separated list of widths from 1 to ${MAX_SIDE}` })
    .optional(),
  ONDEMAND_CONCURRENCY: int(1, 256).optional(),
  ONDEMAND_INTERMEDIATE: bool.default(false),
  // A waiting render holds no original (it is read once a slot is held), so the queue may be deep
  // enough for a gallery's first view (a browser does not retry a 429); one owner gets half of it.
  ONDEMAND_QUEUE_DEPTH: int(0, 10_000).default(32),
  ONDEMAND_PER_OWNER: int(1, 10_000).default(16),
  ONDEMAND_MAX_RENDERS_PER_IMAGE: int(1, 10_000).default(12),
  ONDEMAND_MAX_BYTES_PER_IMAGE: int(1, 5 * 1024 * MiB).default(32 * MiB),
  ONDEMAND_RENDERS_PER_OWNER_PER_HOUR: int(1, 1_000_000).default(600),
  URL_SIGNING_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
  URL_SIGNING_SECRET_PARAMETER: z.string().regex(/^\/?[a-zA-Z0-9_.\-/]{1,1011}$/, { error: 'expected an SSM parameter name' }).optional(),
  OWNER_ID_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
  SIGNED_URL_TTL_SECONDS: int(60, 7 * 24 * 3600).default(3600),
  METRICS_TOKEN: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  WEBHOOK_URL: z.url({ error: 'expected an http(s) URL' }).optional(),
  WEBHOOK_SECRET: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  WEBHOOK_SECRET_PARAMETER: z.string().regex(/^\/?[a-zA-Z0-9_.\-/]{1,1011}$/, { error: 'expected an SSM parameter name' }).optional(),
  // Set by Lambda: the function's memory size, which bounds what the processor may decode.
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: int(128, 10_240).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected fatal, error, warn, info, debug, trace or silent' }).default('info'),
});

export interface Config {
  variants: VariantSpec[];
  outputFormat: OutputFormat | 'auto';
  /** OUTPUT_FORMATS: every variant in each format; overrides OUTPUT_FORMAT. */
  outputFormats?: OutputFormat[];
  quality: number;
  /** WATERMARK_*: a text, a logo (WATERMARK_IMAGE, `scale` of the variant's width), or both. */
  watermark: { text: string; image?: Logo; scale: number; position: WatermarkPosition; opacity: number; minWidth: number };
  maxUploadBytes: number;
  /** The largest body `POST /v1/images` takes (at most maxUploadBytes); larger files go through `POST /v1/uploads`. */
  maxPostBytes: number;
  maxInputPixels: number;
  concurrency: number;
  retentionDays: number;
  storage: StorageKind;
  dataDir: string;
  /** `accelerate`: presigned uploads through the bucket's transfer-acceleration endpoint (AWS only). */
  s3: { endpoint?: string; forcePathStyle: boolean; region?: string; accelerate: boolean };
  inputBucket: string;
  outputBucket: string;
  allowSvg: boolean;
  maxAnimationFrames: number;
  processTimeoutMs: number;
  corsOrigins: string[];
  maxConcurrentUploads: number;
  maxQueueDepth: number;
  /** Requests per minute per API key; 0 turns the limit off. */
  rateLimitPerMinute: number;
  uploadIdleTimeoutMs: number;
  /** Once it has run for UPLOAD_IDLE_TIMEOUT_MS, an upload slower than this on average is dropped with 408. */
  minUploadBytesPerSecond: number;
  /** Uploads one API key (or, without one, one client address) may stream at once. */
  maxUploadsPerKey: number;
  /** Uploads past that share which wait (reading nothing) for one of its slots, and for how long; then 503. */
  maxWaitingUploadsPerKey: number;
  uploadSlotWaitMs: number;
  host: string;
  port: number;
  apiKeys: string[];
  /**
   * Sign-in with OpenID Connect: bearer access tokens from `issuer` are verified here; `clientId` is
   * the page's public client; `audience` what tokens must be for (the client id unless set).
   */
  oidc?: { issuer: string; clientId: string; audience: string };
  /**
   * On-demand renders: `widths` (ONDEMAND_WIDTHS) are the only sizes, in the server's formats; renders
   * have `concurrency` slots of their own, `queueDepth` waiting, `perOwner` per image owner, and each
   * image at most `maxRendersPerImage` renders of `maxBytesPerImage` in all; one owner's images get
   * at most `perOwnerPerHour` new renders an hour. `intermediate`: the processor keeps each image's
   * intermediate for them (imaging/pipeline/intermediate.ts).
   */
  onDemand: { maxPixels: number; widths?: number[]; concurrency: number; queueDepth: number; perOwner: number; maxRendersPerImage: number; maxBytesPerImage: number; perOwnerPerHour: number; intermediate: boolean };
  /** Unset means a random secret per process: signed links then end with the process. */
  urlSigningSecret?: string;
  /** On AWS: the SSM SecureString holding it (the API's own signed links: on-demand renders). */
  urlSigningSecretParameter?: string;
  signedUrlTtlSeconds: number;
  /**
   * What owner ids are derived from (HMAC of the API key's hash). Locally, unset means one the server
   * makes at first start and keeps in DATA_DIR; servers sharing buckets must share it.
   */
  ownerIdSecret?: string;
  /** The bearer token /metrics asks for; without it /metrics answers loopback clients only. */
  metricsToken?: string;
  /** Completion webhook: absent means none. `secretParameter`: the secret is in this SSM SecureString (on AWS). */
  webhook?: { url: string; secret?: string; secretParameter?: string };
  logLevel: string;
  /** The memory the process may use, when something sets one (Lambda); decoders outside sharp stay within it. */
  memoryLimitMb?: number;
}

/** An issuer is reached over TLS; plain http only on this machine, for a provider run locally. */
export function isAcceptedIssuer(url: URL): boolean {
  if (url.search || url.hash || url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** This machine's own names: as HOST gives them, or as a URL's hostname does (`[::1]`). */
export const isLoopbackHost = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);

function oidcSettings(issuer: string | undefined, clientId: string | undefined, audience: string | undefined): Pick<Config, 'oidc'> {
  if (!issuer && !clientId && !audience) return {};
  if (!issuer || !clientId) throw new ConfigError('invalid configuration:\n  OIDC_ISSUER and OIDC_CLIENT_ID: set both to turn sign-in on');
  return { oidc: { issuer, clientId, audience: audience ?? clientId } };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment into one validated Config, or throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(Env.shape).filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]),
  );
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}=${JSON.stringify(present[String(issue.path[0])])}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const given = ['VARIANTS', 'VARIANTS_FILE', 'VARIANTS_JSON'].filter((name) => name in present);
  if (given.length > 1) throw new ConfigError(`invalid configuration:\n  ${given.join(' and ')}: set only one of them`);
  return {
    variants: e.VARIANTS_FILE ?? e.VARIANTS_JSON ?? e.VARIANTS,
    outputFormat: e.OUTPUT_FORMAT,
    ...(e.OUTPUT_FORMATS?.length ? { outputFormats: [...new Set(e.OUTPUT_FORMATS)] as OutputFormat[] } : {}),
    quality: e.QUALITY,
    watermark: {
      text: e.WATERMARK_TEXT,
      ...(e.WATERMARK_IMAGE ? { image: e.WATERMARK_IMAGE } : {}),
      scale: e.WATERMARK_SCALE,
      position: e.WATERMARK_POSITION,
      opacity: e.WATERMARK_OPACITY,
      minWidth: e.WATERMARK_MIN_WIDTH,
    },
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxPostBytes: Math.min(e.MAX_POST_BYTES ?? e.MAX_UPLOAD_BYTES, e.MAX_UPLOAD_BYTES),
    maxInputPixels: e.MAX_INPUT_PIXELS,
    concurrency: e.CONCURRENCY,
    retentionDays: e.RETENTION_DAYS,
    storage: e.STORAGE,
    dataDir: e.DATA_DIR,
    s3: {
      ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      accelerate: e.S3_ACCELERATE,
      ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    },
    inputBucket: e.INPUT_BUCKET,
    outputBucket: e.OUTPUT_BUCKET,
    allowSvg: e.ALLOW_SVG,
    maxAnimationFrames: e.MAX_ANIMATION_FRAMES,
    processTimeoutMs: e.PROCESS_TIMEOUT_MS,
    corsOrigins: e.CORS_ORIGINS,
    maxConcurrentUploads: e.MAX_CONCURRENT_UPLOADS,
    maxQueueDepth: e.MAX_QUEUE_DEPTH,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_MS,
    minUploadBytesPerSecond: e.MIN_UPLOAD_BYTES_PER_SECOND,
    maxUploadsPerKey: e.MAX_UPLOADS_PER_KEY,
    maxWaitingUploadsPerKey: e.MAX_WAITING_UPLOADS_PER_KEY,
    uploadSlotWaitMs: e.UPLOAD_SLOT_WAIT_MS,
    host: e.HOST,
    port: e.PORT,
    apiKeys: e.API_KEYS,
    ...oidcSettings(e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_AUDIENCE),
    ...(e.URL_SIGNING_SECRET ? { urlSigningSecret: e.URL_SIGNING_SECRET } : {}),
    ...(e.URL_SIGNING_SECRET_PARAMETER ? { urlSigningSecretParameter: e.URL_SIGNING_SECRET_PARAMETER } : {}),
    signedUrlTtlSeconds: e.SIGNED_URL_TTL_SECONDS,
    onDemand: {
      maxPixels: e.ONDEMAND_MAX_PIXELS,
      ...(e.ONDEMAND_WIDTHS?.length ? { widths: e.ONDEMAND_WIDTHS.map(Number) } : {}),
      // Half the cores by default: uploads keep the rest, whatever renders are asked for.
      concurrency: e.ONDEMAND_CONCURRENCY ?? Math.max(1, Math.floor(e.CONCURRENCY / 2)),
      intermediate: e.ONDEMAND_INTERMEDIATE,
      queueDepth: e.ONDEMAND_QUEUE_DEPTH,
      perOwner: e.ONDEMAND_PER_OWNER,
      maxRendersPerImage: e.ONDEMAND_MAX_RENDERS_PER_IMAGE,
      maxBytesPerImage: e.ONDEMAND_MAX_BYTES_PER_IMAGE,
      perOwnerPerHour: e.ONDEMAND_RENDERS_PER_OWNER_PER_HOUR,
    },
    ...(e.OWNER_ID_SECRET ? { ownerIdSecret: e.OWNER_ID_SECRET } : {}),
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
    ...(e.WEBHOOK_URL
      ? {
          webhook: {
            url: e.WEBHOOK_URL,
            ...(e.WEBHOOK_SECRET ? { secret: e.WEBHOOK_SECRET } : {}),
            ...(e.WEBHOOK_SECRET_PARAMETER ? { secretParameter: e.WEBHOOK_SECRET_PARAMETER } : {}),
          },
        }
      : {}),
    logLevel: e.LOG_LEVEL,
    ...(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ? { memoryLimitMb: e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE } : {}),
  };
}
