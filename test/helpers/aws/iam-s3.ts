import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { s3Authorizations, type S3Authorization } from './s3-actions.js';
import { sigV4Problem } from './sigv4.js';
import type { FunctionRole, TemplateIam } from './template-iam.js';

/** One S3 request as the gate judged it. */
export interface Decision {
  caller: string;
  method: string;
  path: string;
  needs: S3Authorization[];
  allowed: boolean;
  /** Why it was refused: the permission that failed, or a request the gate cannot map. */
  reason?: string;
}

export interface IamS3 {
  /** The S3 endpoint for each caller: requests there are judged as that function's role. */
  endpoints: Record<string, string>;
  decisions: Decision[];
  /** Decisions that refused a request. */
  denied(): Decision[];
  close(): Promise<void>;
}

const refuse = (res: ServerResponse, code: string, message: string) => {
  res.writeHead(403, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};
const accessDenied = (res: ServerResponse, message: string) => refuse(res, 'AccessDenied', message);

/** A caller whose requests are only checked for a valid signature, not against IAM (a test's own setup). */
export const ANY_SIGNED = 'any-signed';

/**
 * S3's checks in front of an S3-protocol server (s3rver allows everything): one loopback port per function,
 * each request judged against that function's role policies and the bucket's policy from the
 * synthesised template, refused with S3's 403 AccessDenied when they do not allow it, else passed
 * through untouched. Every request's SigV4 signature is verified first (s3rver skips that), so a
 * presigned URL is bound to its signed headers, length included, and expires. Presigned URLs are
 * judged as the function that signed them, as S3 does. Like S3, a missing key answers 403 rather
 * than 404 to a caller without s3:ListBucket on the bucket.
 */
export async function startIamS3(upstream: string, iam: TemplateIam | undefined, callers: Record<string, FunctionRole | typeof ANY_SIGNED>): Promise<IamS3> {
  const target = new URL(upstream);
  const decisions: Decision[] = [];
  const servers: Server[] = [];
  const endpoints: Record<string, string> = {};

  for (const [caller, role] of Object.entries(callers)) {
    const server = createServer((req, res) => {
      void judge(caller, role, req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    endpoints[caller] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function judge(caller: string, role: FunctionRole | typeof ANY_SIGNED, req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const decision: Decision = { caller, method: req.method ?? 'GET', path: url.pathname + url.search, needs: [], allowed: false };
    decisions.push(decision);
    const badSignature = sigV4Problem(req);
    if (badSignature) {
      decision.reason = badSignature;
      req.resume();
      return badSignature === 'Request has expired' ? accessDenied(res, badSignature) : refuse(res, 'SignatureDoesNotMatch', badSignature);
    }
    if (role === ANY_SIGNED || !iam) {
      decision.allowed = true;
      return forward(req, res, undefined);
    }
    try {
      decision.needs = s3Authorizations(decision.method, url, req.headers);
    } catch (error) {
      decision.reason = (error as Error).message;
      req.resume();
      return accessDenied(res, decision.reason);
    }
    for (const need of decision.needs) {
      if (!(await iam.isAllowed(role, need.action, need.resource, need.context))) {
        decision.reason = `${role.principal} may not ${need.action} on ${need.resource}`;
        req.resume();
        return accessDenied(res, 'Access Denied');
      }
    }
    decision.allowed = true;
    const bucketArn = decision.needs[0]!.resource.split('/')[0]!;
    const reads = decision.needs[0]!.action === 's3:GetObject';
    forward(req, res, async () => {
      if (!reads || (await iam.isAllowed(role, 's3:ListBucket', bucketArn, { 's3:prefix': '' }))) return false;
      decision.allowed = false;
      decision.reason = `${role.principal} may not s3:ListBucket, so a missing key is 403`;
      return true;
    });
  }

  /** Passes the request on; `hidesMissing` says whether a 404 from upstream must become a 403. */
  function forward(req: IncomingMessage, res: ServerResponse, hidesMissing: (() => Promise<boolean>) | undefined) {
    const upstreamRequest = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      void (async () => {
        if (answer.statusCode === 404 && hidesMissing && (await hidesMissing())) {
          answer.resume();
          return accessDenied(res, 'Access Denied');
        }
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      })();
    });
    upstreamRequest.on('error', (error) => res.destroy(error));
    req.pipe(upstreamRequest);
  }

  return {
    endpoints,
    decisions,
    denied: () => decisions.filter((d) => !d.allowed),
    close: async () => {
      await Promise.all(
        servers.map((server) => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}
