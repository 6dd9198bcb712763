import { Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const managedPolicy = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;

/**
 * cdk-nag findings that this design accepts, one by one, each with its reason. Each names the exact
 * finding, so any new wildcard still fails the synth. (Object-key wildcards are acknowledged where
 * they are granted, in bucket-access.ts.)
 */
export function acknowledgeFindings(stack: Stack, functions: IConstruct[], restApi: IConstruct): void {
  for (const fn of functions) {
    Validations.of(fn).acknowledge({
      id: managedPolicy('AWSLambdaBasicExecutionRole'),
      reason: 'The narrow AWS policy for writing the function\'s own logs.',
    });
  }
  Validations.of(restApi).acknowledge({
    id: managedPolicy('AmazonAPIGatewayPushToCloudWatchLogs'),
    reason: 'The AWS policy API Gateway needs to write its access and execution logs.',
  });
  // CDK's own helper that installs the S3 event notification.
  Validations.of(stack).acknowledge({
    id: managedPolicy('AWSLambdaBasicExecutionRole'),
    reason: 'The bucket-notification helper Lambda that CDK adds writes only its own logs.',
  });
}
