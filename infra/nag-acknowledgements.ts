import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

const managedPolicy = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;

/**
 * cdk-nag findings that this design accepts, one by one, each with its reason. Each names the exact
 * finding (an action pattern or a bucket's object ARN), so any new wildcard still fails the synth.
 */
export function acknowledgeFindings(stack: Stack, buckets: { input: Bucket; output: Bucket }, functions: IConstruct[], restApi: IConstruct): void {
  const objectsOf = (bucket: Bucket) => `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/*]`;
  const grantPatterns = ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => `AwsSolutions-IAM5[Action::${action}]`);

  for (const fn of functions) {
    for (const id of [...grantPatterns, objectsOf(buckets.input), objectsOf(buckets.output)]) {
      Validations.of(fn).acknowledge({
        id,
        reason: 'CDK bucket grants: object-level actions need the bucket\'s "/*" ARN and action families; every statement names one of our two buckets.',
      });
    }
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
