import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startFakeApiGateway } from '../helpers/aws/fake-api-gateway.js';
import { cli } from '../helpers/cli.js';
import { solid } from '../helpers/images.js';
import { useTestServer } from '../helpers/server.js';
import { keyFilePath, RECHECK_MS } from '../../src/http/key-file.js';

const testServer = useTestServer();

const keys = async (...args: string[]) => cli(['keys', ...args]);
/** The key `keys create` printed: alone on its last line. */
const printedKey = (stdout: string) => stdout.trimEnd().split('\n').at(-1)!;

describe('image-processor keys, on a data folder', () => {
  it('makes a key the running server takes at once, one owner per key, and refuses it soon after revoking it', async () => {
    const server = await testServer();
    const dir = ['--data-dir', server.dataDir];
    // No key file yet: authentication is off, as it was.
    expect((await fetch(`${server.url}/v1/images`)).status).toBe(200);

    const first = await keys('create', '--name', 'ci', ...dir);
    expect(first.code).toBe(0);
    const ciKey = printedKey(first.stdout);
    expect(ciKey).toMatch(/^ipk_[A-Za-z0-9_-]{43}$/);
    const nightly = printedKey((await keys('create', '--name', 'nightly', ...dir)).stdout);

    // Kept as hashes, readable by this user only.
    const file = await readFile(keyFilePath(server.dataDir), 'utf8');
    expect(file).not.toContain(ciKey.slice(4));
    expect((await stat(keyFilePath(server.dataDir))).mode & 0o077).toBe(0);

    const upload = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(await solid(32, 32, 'blue')), headers: { 'content-type': 'image/png', 'x-api-key': ciKey } });
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    expect((await fetch(`${server.url}/v1/images/${id}`, { headers: { 'x-api-key': ciKey } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/images/${id}`, { headers: { 'x-api-key': nightly } })).status).toBe(404);
    // With a key file, a request without a key is refused.
    await sleep(RECHECK_MS + 100);
    expect((await fetch(`${server.url}/v1/images`)).status).toBe(401);

    const listed = await keys('list', ...dir);
    expect(listed.stdout).toMatch(/^ci\tactive\tcreated /m);
    expect(listed.stdout).toMatch(/^nightly\tactive/m);
    expect(listed.stdout).not.toContain(ciKey);

    expect((await keys('create', '--name', 'ci', ...dir)).code).toBe(1);
    expect((await keys('revoke', 'ci', ...dir)).code).toBe(0);
    expect((await keys('revoke', 'ci', ...dir)).code).toBe(1);
    expect((await keys('list', ...dir)).stdout).toMatch(/^ci\trevoked /m);
    await sleep(RECHECK_MS + 100);
    const refused = await fetch(`${server.url}/v1/images`, { headers: { 'x-api-key': ciKey } });
    expect(refused.status).toBe(401);
    expect((await fetch(`${server.url}/v1/images`, { headers: { 'x-api-key': nightly } })).status).toBe(200);
  });

  it('with every key revoked, still asks for one (revoking the last key opens nothing)', async () => {
    const server = await testServer();
    const dir = ['--data-dir', server.dataDir];
    await keys('create', '--name', 'only', ...dir);
    await keys('revoke', 'only', ...dir);
    await sleep(RECHECK_MS + 100);
    expect((await fetch(`${server.url}/v1/images`)).status).toBe(401);
  });

  it('reads DATA_DIR as the server does, and explains its usage', async () => {
    const server = await testServer();
    const made = await cli(['keys', 'create', '--name', 'from-env'], { DATA_DIR: server.dataDir });
    expect((await fetch(`${server.url}/v1/images`, { headers: { 'x-api-key': printedKey(made.stdout) } })).status).toBe(200);
    expect((await keys('create')).code).toBe(2);
    expect((await keys('create', '--name', 'bad name!', '--data-dir', server.dataDir)).code).toBe(2);
  });

  it('lets a server with only a key file listen beyond loopback', async () => {
    const server = await testServer();
    await keys('create', '--name', 'remote', '--data-dir', server.dataDir);
    const exposed = await testServer({ HOST: '0.0.0.0' }, { dataDir: server.dataDir });
    expect(exposed.url).toMatch(/^http:/);
  });
});

describe("image-processor keys, on a deployment's usage plan (API Gateway keys, with the operator's credentials)", () => {
  it('creates a key in the plan and prints it once, lists the plan, and revokes by deleting the key', async () => {
    const apiGateway = await startFakeApiGateway(undefined, {});
    const env = { AWS_ENDPOINT_URL_API_GATEWAY: apiGateway.endpoints.operator!, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'operator', AWS_SECRET_ACCESS_KEY: 'operator-secret' };
    const plan = ['--usage-plan', 'machines-plan'];
    try {
      const made = await cli(['keys', 'create', '--name', 'ci', ...plan], env);
      expect(made.code, made.stderr).toBe(0);
      const key = printedKey(made.stdout);
      expect(apiGateway.keyByValue(key)).toMatchObject({ name: 'ci', enabled: true });
      expect([...apiGateway.keyByValue(key)!.plans]).toEqual(['machines-plan']);
      expect((await cli(['keys', 'create', '--name', 'ci', ...plan], env)).code).toBe(1);
      expect((await cli(['keys', 'list', ...plan], env)).stdout).toMatch(/^ci\tactive$/m);
      expect((await cli(['keys', 'revoke', 'ci', ...plan], env)).code).toBe(0);
      expect(apiGateway.keyByValue(key)).toBeUndefined();
      expect((await cli(['keys', 'revoke', 'ci', ...plan], env)).code).toBe(1);
    } finally {
      await apiGateway.close();
    }
  });
});
