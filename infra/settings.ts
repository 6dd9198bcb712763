import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Node } from 'constructs';
import { loadConfig } from '../src/config/config.js';

/** The settings (README, Configuration) the processor and the API read; passed from context, present even when empty. */
export const PROCESSING_VARIABLES = [
  'VARIANTS',
  // The text of -c VARIANTS_FILE=path, read at synth: the presets travel in the deployment.
  'VARIANTS_JSON',
  'OUTPUT_FORMAT',
  'QUALITY',
  'WATERMARK_TEXT',
  // A local file at synth; shipped in a layer, and the functions read it at /opt/watermark/.
  'WATERMARK_IMAGE',
  'WATERMARK_SCALE',
  'WATERMARK_POSITION',
  'WATERMARK_OPACITY',
  'WATERMARK_MIN_WIDTH',
  'MAX_UPLOAD_BYTES',
  'MAX_INPUT_PIXELS',
  'ALLOW_SVG',
  'MAX_ANIMATION_FRAMES',
  'PROCESS_TIMEOUT_MS',
  'RETENTION_DAYS',
  'WEBHOOK_URL',
] as const;

export interface Settings {
  /** Each of PROCESSING_VARIABLES: the context value, or '' for the documented default. */
  processing: Record<(typeof PROCESSING_VARIABLES)[number], string>;
  retentionDays: number;
  architecture: 'arm64' | 'x86_64';
  glacierAfterDays: number;
  corsOrigins: string[];
  alarmEmail?: string;
  logRetentionDays: number;
  apiRateLimit: number;
  apiBurstLimit: number;
  apiQuotaPerDay: number;
  /** People may create their own accounts in the user pool (-c selfSignUp=true); otherwise the operator makes them. */
  selfSignUp: boolean;
  /** The throttle of the signed-in users' usage plan (all of them together; no quota). */
  signedInRateLimit: number;
  signedInBurstLimit: number;
  /** Requests per minute per owner (user or key) in each API function instance (RATE_LIMIT_PER_MINUTE). */
  requestsPerOwnerPerMinute: number;
  /** The hosted sign-in domain's prefix; by default the stack's name and account. */
  signInDomainPrefix?: string;
  /** Alarm when the API answers more 4XX (refusals, throttling) than this in five minutes. */
  clientErrorsPerFiveMinutes: number;
  /** The processor's memory: what its largest image needs (see docs/PERFORMANCE.md). */
  processorMemoryMb: number;
  /** Overuse alarms: more processor runs, or more API requests, in one hour than these. */
  overuseImagesPerHour: number;
  overuseApiRequestsPerHour: number;
  /** The name of an SSM SecureString holding WEBHOOK_SECRET, read by the functions at run time. */
  webhookSecretParameter?: string;
  /** The name of an SSM SecureString holding URL_SIGNING_SECRET, read by the API for its own links (on-demand renders). */
  urlSigningSecretParameter?: string;
  /** The Lambda asset: bundles, page, font and the Lambda-platform sharp (`npm run stage`). */
  assetDir: string;
  /** The logo file on this machine (-c WATERMARK_IMAGE=), shipped to the functions in a layer. */
  watermarkImage?: string;
}

/** Where the functions find the logo: a layer's files are under /opt. */
export const LOGO_DIR = '/opt/watermark';

/** Every setting with its default; `npx cdk deploy -c NAME=value` overrides any of them. */
export const DEFAULTS = {
  architecture: 'arm64',
  glacierAfterDays: 90,
  corsOrigins: '*',
  logRetentionDays: 30,
  apiRateLimit: 20,
  apiBurstLimit: 40,
  apiQuotaPerDay: 10_000,
  signedInRateLimit: 50,
  signedInBurstLimit: 100,
  requestsPerOwnerPerMinute: 300,
  clientErrorsPerFiveMinutes: 500,
  processorMemoryMb: 512,
  overuseImagesPerHour: 1000,
  overuseApiRequestsPerHour: 10_000,
  assetDir: 'build/lambda-asset',
} as const;

/**
 * Reads CDK context into Settings. The processing variables are checked by the very code that
 * will read them on Lambda, so a bad `-c VARIANTS=...` fails the synth, not the first upload.
 */
export function readSettings(node: Node): Settings {
  const context = (name: string): string | undefined => {
    const value = node.tryGetContext(name) as unknown;
    return value === undefined || value === null ? undefined : String(value);
  };
  if (context('WEBHOOK_SECRET') !== undefined) {
    throw new Error('context WEBHOOK_SECRET would travel in clear in the template: put it in an SSM SecureString and pass its name as -c webhookSecretParameter=');
  }
  const processing = Object.fromEntries(PROCESSING_VARIABLES.map((name) => [name, context(name) ?? ''])) as Settings['processing'];
  const variantsFile = context('VARIANTS_FILE');
  if (variantsFile !== undefined) processing.VARIANTS_JSON = presetsText(variantsFile);
  const config = loadConfig(processing);
  // Checked here, where the file is; the functions find it where the layer puts it.
  const watermarkImage = processing.WATERMARK_IMAGE || undefined;
  if (watermarkImage) processing.WATERMARK_IMAGE = `${LOGO_DIR}/${basename(watermarkImage)}`;
  const number = (name: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = Number(context(name) ?? DEFAULTS[name]);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`context ${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  const architecture = context('architecture') ?? DEFAULTS.architecture;
  if (architecture !== 'arm64' && architecture !== 'x86_64') throw new Error('context architecture must be arm64 or x86_64');
  const alarmEmail = context('alarmEmail');
  const parameter = (name: string, example: string) => {
    const value = context(name);
    if (value !== undefined && !/^\/?[a-zA-Z0-9_.\-/]{1,1011}$/.test(value)) throw new Error(`context ${name} must be an SSM parameter name such as ${example}`);
    return value;
  };
  const flag = (name: string) => {
    const value = context(name) ?? 'false';
    if (value !== 'true' && value !== 'false') throw new Error(`context ${name} must be true or false`);
    return value === 'true';
  };
  const signInDomainPrefix = context('signInDomainPrefix');
  // Cognito's rule for a hosted domain's prefix.
  if (signInDomainPrefix !== undefined && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(signInDomainPrefix) || /aws|amazon|cognito/.test(signInDomainPrefix))) {
    throw new Error('context signInDomainPrefix must be lowercase letters, digits and hyphens, without aws, amazon or cognito');
  }
  const webhookSecretParameter = parameter('webhookSecretParameter', '/image-processor/webhook-secret');
  const urlSigningSecretParameter = parameter('urlSigningSecretParameter', '/image-processor/url-signing-secret');
  if (context('URL_SIGNING_SECRET') !== undefined) {
    throw new Error('context URL_SIGNING_SECRET would travel in clear in the template: put it in an SSM SecureString and pass its name as -c urlSigningSecretParameter=');
  }
  return {
    processing,
    retentionDays: config.retentionDays,
    architecture,
    glacierAfterDays: number('glacierAfterDays', 1),
    corsOrigins: (context('corsOrigins') ?? DEFAULTS.corsOrigins).split(',').map((s) => s.trim()).filter(Boolean),
    ...(alarmEmail ? { alarmEmail } : {}),
    logRetentionDays: number('logRetentionDays', 1),
    apiRateLimit: number('apiRateLimit', 1),
    apiBurstLimit: number('apiBurstLimit', 1),
    apiQuotaPerDay: number('apiQuotaPerDay', 1),
    selfSignUp: flag('selfSignUp'),
    signedInRateLimit: number('signedInRateLimit', 1),
    signedInBurstLimit: number('signedInBurstLimit', 1),
    requestsPerOwnerPerMinute: number('requestsPerOwnerPerMinute', 1),
    ...(signInDomainPrefix ? { signInDomainPrefix } : {}),
    clientErrorsPerFiveMinutes: number('clientErrorsPerFiveMinutes', 1),
    // Up to Lambda's largest; below 512 MB a phone photo does not fit.
    processorMemoryMb: number('processorMemoryMb', 512, 10_240),
    overuseImagesPerHour: number('overuseImagesPerHour', 1),
    overuseApiRequestsPerHour: number('overuseApiRequestsPerHour', 1),
    ...(webhookSecretParameter ? { webhookSecretParameter } : {}),
    ...(urlSigningSecretParameter ? { urlSigningSecretParameter } : {}),
    assetDir: context('assetDir') ?? DEFAULTS.assetDir,
    ...(watermarkImage ? { watermarkImage } : {}),
  };
}

/** Lambda's environment holds 4 KB in all; the presets get most of it, the other settings the rest. */
const MAX_PRESETS_BYTES = 3000;

/** A presets file's text, compact, for the functions' environment; its content is checked by loadConfig. */
function presetsText(path: string): string {
  let text: string;
  try {
    text = JSON.stringify(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new Error(`context VARIANTS_FILE=${path}: cannot be read as JSON`);
  }
  if (Buffer.byteLength(text) > MAX_PRESETS_BYTES) throw new Error(`context VARIANTS_FILE=${path}: over ${MAX_PRESETS_BYTES} bytes once compacted, more than a Lambda environment holds`);
  return text;
}
