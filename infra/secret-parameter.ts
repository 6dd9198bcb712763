import { Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';

/**
 * A secret never travels in the template or the function's environment: the deployer keeps it in
 * an SSM SecureString, the function gets its name in `variable` and may read that one parameter.
 * (The AWS managed key of SSM decrypts for any caller in the account that SSM serves; no KMS grant needed.)
 */
export function readsSecretParameter(fn: LambdaFunction, variable: string, name: string | undefined): void {
  if (!name) return;
  fn.addEnvironment(variable, name);
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [Stack.of(fn).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') })],
    }),
  );
}
