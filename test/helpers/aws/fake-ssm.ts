import { createServer, type Server } from 'node:http';
import type { FunctionRole, TemplateIam } from './template-iam.js';
import { closeServer, listenOnLoopback } from '../loopback.js';

/**
 * SSM's GetParameter (JSON 1.1 protocol) for the SecureStrings a test sets, one loopback port per
 * function as in iam-s3.ts: a caller whose role may not ssm:GetParameter that parameter gets SSM's
 * AccessDeniedException. Point a function at it with AWS_ENDPOINT_URL_SSM.
 */
export async function startFakeSsm(iam: TemplateIam, callers: Record<string, FunctionRole>, parameters: Record<string, string>, where = { region: 'us-east-1', account: '123456789012' }) {
  const servers: Server[] = [];
  const endpoints: Record<string, string> = {};
  const denied: string[] = [];
  for (const [caller, role] of Object.entries(callers)) {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        void (async () => {
          const answer = (status: number, payload: object) => {
            res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
            res.end(JSON.stringify(payload));
          };
          if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter') return answer(400, { __type: 'UnknownOperationException' });
          const { Name } = JSON.parse(body) as { Name: string };
          const arn = `arn:aws:ssm:${where.region}:${where.account}:parameter/${Name.replace(/^\//, '')}`;
          if (!(await iam.isAllowed(role, 'ssm:GetParameter', arn))) {
            denied.push(`${caller} ssm:GetParameter ${arn}`);
            return answer(400, { __type: 'AccessDeniedException', message: `User: ${role.principal} is not authorized to perform: ssm:GetParameter on resource: ${arn}` });
          }
          const value = parameters[Name];
          if (value === undefined) return answer(400, { __type: 'ParameterNotFound' });
          answer(200, { Parameter: { Name, Type: 'SecureString', Value: value, Version: 1, ARN: arn, DataType: 'text' } });
        })();
      });
    });
    endpoints[caller] = await listenOnLoopback(server);
    servers.push(server);
  }
  return {
    endpoints,
    denied,
    close: () => Promise.all(servers.map(closeServer)),
  };
}
