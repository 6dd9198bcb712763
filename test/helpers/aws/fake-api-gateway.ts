import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FunctionRole, TemplateIam } from './template-iam.js';
import { closeServer, listenOnLoopback } from '../loopback.js';

interface Key {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
  plans: Set<string>;
}

/**
 * The part of API Gateway's management API (REST JSON) that the key tools and the authorizer use:
 * API keys (create, read with their value, delete) and the keys of a usage plan. One port per
 * function, each request judged against that function's role from the template (apigateway:GET on
 * the key's ARN), and one for the operator, whose credentials may do anything. Point the SDK at it
 * with AWS_ENDPOINT_URL_API_GATEWAY.
 */
export async function startFakeApiGateway(iam: TemplateIam | undefined, callers: Record<string, FunctionRole>, where = { region: 'us-east-1' }) {
  const keys = new Map<string, Key>();
  const denied: string[] = [];
  const servers: Server[] = [];
  const endpoints: Record<string, string> = {};
  const view = (key: Key, withValue: boolean) => ({ id: key.id, name: key.name, enabled: key.enabled, ...(withValue ? { value: key.value } : {}) });

  const handler = (role: FunctionRole | undefined) =>
    createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        void (async () => {
          const url = new URL(req.url ?? '/', 'http://api-gateway');
          const answer = (status: number, payload?: object) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(payload ? JSON.stringify(payload) : '');
          };
          const method = req.method ?? 'GET';
          const arn = `arn:aws:apigateway:${where.region}::${url.pathname}`;
          if (role && !(await iam!.isAllowed(role, `apigateway:${method}`, arn))) {
            denied.push(`${method} ${arn}`);
            return answer(403, { message: `User: ${role.principal} is not authorized to perform: apigateway:${method} on resource: ${arn}` });
          }
          const input = body ? (JSON.parse(body) as Record<string, any>) : {};
          let match: RegExpExecArray | null;
          if (method === 'POST' && url.pathname === '/apikeys') {
            const key: Key = { id: randomBytes(5).toString('hex'), name: String(input.name), value: input.value ?? randomBytes(20).toString('base64url'), enabled: input.enabled !== false, plans: new Set() };
            keys.set(key.id, key);
            return answer(201, view(key, true));
          }
          if ((match = /^\/apikeys\/([^/]+)$/.exec(url.pathname))) {
            const key = keys.get(decodeURIComponent(match[1]!));
            if (!key) return answer(404, { message: 'Invalid API Key identifier specified' });
            if (method === 'GET') return answer(200, view(key, url.searchParams.get('includeValue') === 'true'));
            if (method === 'DELETE') {
              keys.delete(key.id);
              return answer(202);
            }
          }
          if ((match = /^\/usageplans\/([^/]+)\/keys$/.exec(url.pathname))) {
            const plan = decodeURIComponent(match[1]!);
            if (method === 'POST') {
              const key = keys.get(String(input.keyId));
              if (!key) return answer(404, { message: 'Invalid API Key identifier specified' });
              key.plans.add(plan);
              return answer(201, { id: key.id, type: 'API_KEY', name: key.name });
            }
            if (method === 'GET') return answer(200, { item: [...keys.values()].filter((key) => key.plans.has(plan)).map((key) => ({ id: key.id, type: 'API_KEY', name: key.name })) });
          }
          answer(404, { message: `no fake for ${method} ${url.pathname}` });
        })();
      });
    });

  for (const [caller, role] of [...Object.entries(callers), ['operator', undefined] as const]) {
    const server = handler(role);
    endpoints[caller] = await listenOnLoopback(server);
    servers.push(server);
  }
  return {
    endpoints,
    denied,
    /** A key made with the stack (the template's logical id is its id here), in `plan`. */
    addKey(id: string, plan: string): string {
      const value = randomBytes(20).toString('base64url');
      keys.set(id, { id, name: id, value, enabled: true, plans: new Set([plan]) });
      return value;
    },
    /** The key a value belongs to, as API Gateway finds it for a usage identifier. */
    keyByValue: (value: string) => [...keys.values()].find((key) => key.value === value),
    close: () => Promise.all(servers.map(closeServer)),
  };
}
