/**
 * A secret kept in an SSM SecureString (on AWS secrets never travel in the template or the
 * environment, only the parameter's name), read once per container at cold start; a parameter that
 * cannot be read fails the start loudly, like any bad configuration.
 */
export async function readSecretParameter(name: string, variable: string): Promise<string> {
  const { GetParameterCommand, SSMClient } = await import('@aws-sdk/client-ssm');
  const answer = await new SSMClient({}).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const secret = answer.Parameter?.Value;
  if (!secret) throw new Error(`The SSM parameter ${name} (${variable}) has no value.`);
  return secret;
}
