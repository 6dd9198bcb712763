import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImageProcessorStack } from '../../../infra/image-processor-stack.js';
import { readSettings } from '../../../infra/settings.js';

/** A stand-in asset folder: the template's shape does not depend on the bundles inside it. */
const assetDir = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'asset-'));
  writeFileSync(join(dir, 'processor.mjs'), 'export const handler = () => {};');
  return dir;
})();

/** The feature flags of cdk.json, as `cdk synth` would apply them. */
const flags = (JSON.parse(readFileSync(join(import.meta.dirname, '../../../cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The stack as `npm run synth` builds it, with cdk-nag's checks attached, from these context values. */
export function synth(context: Record<string, string> = {}, stackName = 'Test') {
  const app = new App({ context: { ...flags, assetDir, ...context } });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  const stack = new ImageProcessorStack(app, stackName, readSettings(app.node));
  const template = Template.fromStack(stack);
  return { app, stack, template, nag };
}

/** The logical ids of the input bucket (the one with transfer acceleration) and the output bucket. */
export function bucketIds(template: Template): { input: string; output: string } {
  const buckets = template.findResources('AWS::S3::Bucket');
  const withMetrics = Object.keys(buckets).filter((id) => buckets[id]!.Properties.MetricsConfigurations);
  const input = withMetrics.find((id) => buckets[id]!.Properties.AccelerateConfiguration);
  const output = withMetrics.find((id) => !buckets[id]!.Properties.AccelerateConfiguration);
  if (!input || !output) throw new Error('the template has no input and output bucket');
  return { input, output };
}
