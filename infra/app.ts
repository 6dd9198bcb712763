import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImageProcessorStack } from './image-processor-stack.js';
import { readSettings } from './settings.js';

/** `npx cdk synth|deploy`: one stack, with cdk-nag's AWS Solutions checks failing the synth on any unacknowledged finding. */
const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
new ImageProcessorStack(app, app.node.tryGetContext('stackName') ?? 'ImageProcessor', readSettings(app.node), {
  description: 'Serverless Image Processor: S3 buckets, processor Lambda, API Gateway + Lambda API, CloudWatch.',
});
app.synth();
