import type { Config } from '../config/config.js';

/**
 * The webhook settings with their secret in hand: on AWS the secret is not in the environment but
 * in an SSM SecureString, read once per container at cold start (a parameter that cannot be read
 * fails the start loudly, like any bad configuration).
 */
export async function resolveWebhookSecret(webhook: Config['webhook']): Promise<Config['webhook']> {
  if (!webhook?.secretParameter) return webhook;
  const { GetParameterCommand, SSMClient } = await import('@aws-sdk/client-ssm');
  const answer = await new SSMClient({}).send(new GetParameterCommand({ Name: webhook.secretParameter, WithDecryption: true }));
  const secret = answer.Parameter?.Value;
  if (!secret) throw new Error(`The SSM parameter ${webhook.secretParameter} (WEBHOOK_SECRET_PARAMETER) has no value.`);
  return { url: webhook.url, secret };
}
