import { runSimulation } from '@cloud-copilot/iam-simulate';

/** A CloudFormation template as `Template.toJSON()` gives it. */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
}

/** Where the template is taken to be deployed: the values its pseudo parameters and bucket refs take. */
export interface Deployment {
  account: string;
  region: string;
  stackName: string;
  /** The real (test) bucket name of each bucket's logical id that requests go to. */
  bucketNames: Record<string, string>;
}

type PolicyDocument = { Version: string; Statement: unknown[] };

/** The only AWS managed policy our roles may carry: it grants writing the function's own logs, no S3. */
const LOGS_ONLY = /:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/;

/**
 * The IAM side of a synthesised template, resolved to plain ARNs for one deployment, and an
 * evaluator (iam-simulate: identity policies, resource policies, explicit denies, conditions) that
 * answers whether a function's role may take an action on a resource, as AWS would.
 */
export function templateIam(template: CfnTemplate, deployment: Deployment) {
  const { account, region } = deployment;
  const resources = template.Resources;

  const arnOf = (id: string): string => {
    const type = resources[id]?.Type;
    if (type === 'AWS::S3::Bucket') return `arn:aws:s3:::${bucketName(id)}`;
    if (type === 'AWS::SQS::Queue') return `arn:aws:sqs:${region}:${account}:${id}`;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${region}:${account}:${id}`;
    if (type === 'AWS::Lambda::Function') return `arn:aws:lambda:${region}:${account}:function:${id}`;
    if (type === 'AWS::IAM::Role') return `arn:aws:iam::${account}:role/${id}`;
    return `arn:aws:cloudformation:${region}:${account}:resource/${id}`;
  };
  // A bucket the test does not name (the access-log bucket) gets its logical id, which no request uses.
  const bucketName = (id: string): string => deployment.bucketNames[id] ?? id.toLowerCase();
  const ref = (id: string): string => {
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': region, 'AWS::AccountId': account, 'AWS::StackName': deployment.stackName, 'AWS::URLSuffix': 'amazonaws.com' };
    if (pseudo[id]) return pseudo[id]!;
    const type = resources[id]?.Type;
    if (type === 'AWS::S3::Bucket') return bucketName(id);
    if (type === 'AWS::SNS::Topic') return arnOf(id);
    if (type === 'AWS::SQS::Queue') return `https://sqs.${region}.amazonaws.com/${account}/${id}`;
    return id;
  };
  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, any>;
    if ('Ref' in object) return ref(object.Ref as string);
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      // A user pool's issuer, as Cognito names it.
      if (attribute === 'ProviderURL' && resources[id]?.Type === 'AWS::Cognito::UserPool') return `https://cognito-idp.${region}.amazonaws.com/${id}`;
      if (attribute !== 'Arn') throw new Error(`cannot resolve ${id}.${attribute}`);
      return arnOf(id);
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return (resolve(parts) as string[]).join(separator);
    }
    if ('Fn::Sub' in object) {
      return (object['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => ref(name));
    }
    return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolve(inner)]));
  };

  /** The function with this handler (`processor.handler`). */
  function findFunction(handler: string) {
    const found = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === handler);
    if (found.length !== 1) throw new Error(`expected one function with handler ${handler}, found ${found.length}`);
    return found[0]!;
  }

  /** The environment variables the function starts with. */
  function functionEnvironment(handler: string): Record<string, string> {
    return resolve(findFunction(handler)[1].Properties!.Environment?.Variables ?? {});
  }

  /** The role of the function with this handler, and its policies. */
  function functionRole(handler: string) {
    const [functionId, fn] = findFunction(handler);
    const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    for (const managed of resolve(resources[roleId]?.Properties?.ManagedPolicyArns ?? []) as string[]) {
      if (!LOGS_ONLY.test(managed)) throw new Error(`the evaluator does not know managed policy ${managed}`);
    }
    const policies = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
      .map(([id, r]) => ({ name: id, policy: resolve(r.Properties!.PolicyDocument) as PolicyDocument }));
    return { functionId, roleId, principal: `arn:aws:sts::${account}:assumed-role/${roleId}/${functionId}`, policies };
  }

  /** The resource policy of the bucket, queue or topic behind an ARN, if it has one. */
  function resourcePolicy(arn: string): PolicyDocument | undefined {
    for (const resource of Object.values(resources)) {
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::S3::BucketPolicy' && arn.startsWith(`arn:aws:s3:::${resolve(p.Bucket)}`)) return resolve(p.PolicyDocument);
      if (resource.Type === 'AWS::SNS::TopicPolicy' && (resolve(p.Topics) as string[]).includes(arn)) return resolve(p.PolicyDocument);
      if (resource.Type === 'AWS::SQS::QueuePolicy' && (resolve(p.Queues) as string[]).some((url) => url.endsWith(`/${arn.split(':').pop()}`))) return resolve(p.PolicyDocument);
    }
    return undefined;
  }

  /**
   * Whether `principal` (a function's role, or a service principal such as
   * `cloudwatch.amazonaws.com`) may take `action` on `resource`. Requests are taken to come over TLS.
   */
  async function isAllowed(
    caller: { principal: string; policies: { name: string; policy: PolicyDocument }[] },
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ): Promise<boolean> {
    const policy = resourcePolicy(resource);
    const result = await runSimulation(
      {
        identityPolicies: caller.policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(policy ? { resourcePolicy: policy } : {}),
        request: {
          action,
          principal: caller.principal,
          resource: { accountId: account, resource },
          contextVariables: { 'aws:SecureTransport': 'true', ...context },
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`iam-simulate refused the request: ${JSON.stringify(result.errors)}`);
    return result.overallResult === 'Allowed';
  }

  return { resolve, functionEnvironment, functionRole, resourcePolicy, isAllowed };
}

export type TemplateIam = ReturnType<typeof templateIam>;
export type FunctionRole = ReturnType<TemplateIam['functionRole']>;
