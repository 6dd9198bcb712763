import { Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/**
 * People sign in with a Cognito user pool: email as the sign-in name, accounts made by the operator
 * (self sign-up only with -c selfSignUp=true), the page as a public client (authorization code
 * flow, which the page always runs with PKCE; no implicit flow, no client secret), and Cognito's
 * hosted sign-in pages on a domain of the stack's.
 */
export class SignIn extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: { pageUrl: string; selfSignUp: boolean; domainPrefix?: string }) {
    super(scope, id);
    const stack = Stack.of(this);
    this.userPool = new UserPool(this, 'Users', {
      userPoolName: `${stack.stackName}-users`,
      signInAliases: { email: true },
      autoVerify: { email: true },
      selfSignUpEnabled: props.selfSignUp,
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(7) },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: FeaturePlan.ESSENTIALS,
    });
    this.client = this.userPool.addClient('Page', {
      userPoolClientName: 'web-page',
      generateSecret: false,
      // The hosted pages sign people in; no password ever reaches the page or the API.
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [props.pageUrl],
        logoutUrls: [props.pageUrl],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });
    // A prefix unique to this account and stack unless one is given (-c signInDomainPrefix=).
    const prefix = props.domainPrefix ?? Fn.join('-', [stack.stackName.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30), stack.account]);
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: prefix } });

    for (const id of ['AwsSolutions-COG3', 'AwsSolutions-COG8']) {
      Validations.of(this.userPool).acknowledge({
        id,
        reason: 'Threat protection is Cognito\'s Plus plan, billed per active user; an operator who wants it changes the feature plan.',
      });
    }
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason: 'MFA is optional (authenticator apps): the operator can require it per pool; the photos an account reaches are its own.',
    });
  }

  /** The issuer of the pool's tokens, as their `iss` claim names it. */
  get issuer(): string {
    return this.userPool.userPoolProviderUrl;
  }
}
