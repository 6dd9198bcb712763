import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Bucket } from 'aws-cdk-lib/aws-s3';

/**
 * Exactly the S3 actions a function calls, on exactly the keys it touches: no grant families (they
 * add legal holds, retention, version deletes). Each `/pattern` ARN is a wildcard cdk-nag flags;
 * it is acknowledged here by its exact finding, so a broader one added elsewhere still fails.
 */
export function allowObjects(fn: LambdaFunction, bucket: Bucket, pattern: string, actions: string[]): void {
  fn.addToRolePolicy(new PolicyStatement({ actions, resources: [bucket.arnForObjects(pattern)] }));
  if (!pattern.includes('*')) return;
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  Validations.of(fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
    reason: `Object actions apply to keys, and this function works on every key under ${pattern} of its bucket, no others.`,
  });
}

/**
 * ListBucket on the bucket: besides listing, it makes S3 answer 404 rather than 403 for a missing
 * key, which the code relies on to tell "not there yet" from "not allowed".
 */
export function allowListing(fn: LambdaFunction, bucket: Bucket): void {
  fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
}
