import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { loadConfig } from '../config/config.js';
import { isAppError } from '../errors.js';
import { createAccessTokenVerifier } from '../http/access-tokens.js';
import { bearerToken } from '../http/auth.js';
import { askForCredentials, KEY_NOT_VALID } from '../http/credential-refusals.js';

/**
 * API Gateway's Lambda authorizer: who may call the API, and which usage plan counts the call.
 * - A signed-in person (a Cognito access token, verified here as the local server verifies it):
 *   allowed, their owner id handed to the API function, counted under the signed-in users' key
 *   (a plan with a throttle and no quota).
 * - A machine with an API key: allowed here, its key handed to API Gateway as the usage identifier,
 *   which checks it against the machine plan (its own throttle and quota) and refuses it otherwise.
 * Refusals are Deny with the reason, which the ACCESS_DENIED gateway response puts in a 401 problem.
 */
const config = loadConfig();
const verify = config.oidc ? createAccessTokenVerifier({ issuer: config.oidc.issuer, audience: config.oidc.audience }) : undefined;
const usersKeyId = process.env.USERS_API_KEY_ID;
let usersKey: Promise<string> | undefined;

/** The signed-in users' usage identifier: an API key of the stack's, its value read once per container. */
async function readUsersKey(): Promise<string> {
  if (!usersKeyId) throw new Error('USERS_API_KEY_ID is not set');
  const { APIGatewayClient, GetApiKeyCommand } = await import('@aws-sdk/client-api-gateway');
  const key = await new APIGatewayClient({}).send(new GetApiKeyCommand({ apiKey: usersKeyId, includeValue: true }));
  if (!key.value) throw new Error('the signed-in users key has no value');
  return key.value;
}
const signedInUsersKey = () => (usersKey ??= readUsersKey().catch((error: unknown) => {
  usersKey = undefined;
  throw error;
}));

const policy = (effect: 'Allow' | 'Deny', methodArn: string) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
});

const deny = (event: APIGatewayRequestAuthorizerEvent, reason: string): APIGatewayAuthorizerResult => ({
  principalId: 'refused',
  policyDocument: policy('Deny', event.methodArn),
  context: { reason },
});

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const header = (name: string) => Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;
  const bearer = bearerToken(header('authorization'));
  const apiKey = header('x-api-key');
  if (bearer && verify) {
    let owner: string;
    try {
      owner = (await verify(bearer)).owner.id;
    } catch (error) {
      // The issuer could not be reached: an error (a 5xx the client may retry), not a refusal.
      if (isAppError(error) && error.status === 401) return deny(event, error.message);
      throw error;
    }
    return { principalId: owner, policyDocument: policy('Allow', event.methodArn), context: { owner }, usageIdentifierKey: await signedInUsersKey() };
  }
  if (apiKey) {
    // The users' key is an identifier of this authorizer's, never a credential.
    if (apiKey === (await signedInUsersKey())) return deny(event, KEY_NOT_VALID);
    return { principalId: 'api-key', policyDocument: policy('Allow', event.methodArn), context: { owner: '' }, usageIdentifierKey: apiKey };
  }
  return deny(event, askForCredentials(Boolean(verify)));
}
