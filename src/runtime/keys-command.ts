import { loadConfig } from '../config/config.js';
import { createKey, KEY_NAME, keyFilePath, readKeys, revokeKey } from '../http/key-file.js';
import { option } from './argv-option.js';

export const KEYS_USAGE = `usage: image-processor keys create --name <name> [--data-dir <dir> | --usage-plan <id>]
       image-processor keys list [--data-dir <dir> | --usage-plan <id>]
       image-processor keys revoke <name> [--data-dir <dir> | --usage-plan <id>]

API keys for machines (people sign in instead), one per client: each key is its own owner.
  --data-dir    the local server's data folder (default DATA_DIR, as the server reads it); the
                running server takes a new key, and stops taking a revoked one, within a second
  --usage-plan  a deployment's usage plan for machines (the stack's MachineKeysUsagePlanId output),
                with the operator's AWS credentials: keys are API Gateway keys with that plan's
                throttle and quota
create prints the key once, alone on its last line; only its hash is kept (locally).`;

interface KeyStore {
  create(name: string): Promise<string>;
  list(): Promise<{ name: string; created?: string; state: string }[]>;
  revoke(name: string): Promise<boolean>;
}

function localStore(dataDir: string): KeyStore {
  const path = keyFilePath(dataDir);
  return {
    create: (name) => createKey(path, name),
    list: async () => ((await readKeys(path)) ?? []).map((key) => ({ name: key.name, created: key.createdAt, state: key.revokedAt ? `revoked ${key.revokedAt}` : 'active' })),
    revoke: (name) => revokeKey(path, name),
  };
}

/** API Gateway keys in one usage plan; imported when asked for, so local use loads no AWS SDK. */
async function usagePlanStore(usagePlanId: string): Promise<KeyStore> {
  const sdk = await import('@aws-sdk/client-api-gateway');
  const client = new sdk.APIGatewayClient({});
  const planKeys = async () => {
    const keys: { id: string; name: string }[] = [];
    let position: string | undefined;
    do {
      const page = await client.send(new sdk.GetUsagePlanKeysCommand({ usagePlanId, limit: 500, ...(position ? { position } : {}) }));
      for (const item of page.items ?? []) if (item.id && item.name) keys.push({ id: item.id, name: item.name });
      position = page.position;
    } while (position);
    return keys;
  };
  return {
    async create(name) {
      if ((await planKeys()).some((key) => key.name === name)) throw new Error(`a key named ${name} exists; revoke it first or choose another name`);
      const key = await client.send(new sdk.CreateApiKeyCommand({ name, enabled: true, description: 'A machine client of the image API (image-processor keys).' }));
      try {
        await client.send(new sdk.CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id!, keyType: 'API_KEY' }));
      } catch (error) {
        // A key outside the plan would be refused anyway; it is not left behind.
        await client.send(new sdk.DeleteApiKeyCommand({ apiKey: key.id! }));
        throw error;
      }
      return key.value!;
    },
    list: async () => (await planKeys()).map((key) => ({ name: key.name, state: 'active' })),
    async revoke(name) {
      const key = (await planKeys()).find((candidate) => candidate.name === name);
      if (!key) return false;
      await client.send(new sdk.DeleteApiKeyCommand({ apiKey: key.id }));
      return true;
    },
  };
}


/** `image-processor keys ...`: 0 done, 1 refused (no such key, a name taken), 2 a usage error. */
export async function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const [name, dataDir, usagePlan] = ['--name', '--data-dir', '--usage-plan'].map((flag) => option(rest, flag));
  const target = action === 'revoke' ? (rest.find((arg, i) => !arg.startsWith('--') && !rest[i - 1]?.startsWith('--')) ?? name) : name;
  if (!['create', 'list', 'revoke'].includes(action ?? '') || (action !== 'list' && !target) || (dataDir && usagePlan)) {
    console.error(KEYS_USAGE);
    return 2;
  }
  if (target && !KEY_NAME.test(target)) {
    console.error('a key name is 1 to 64 letters, digits, dots, dashes or underscores');
    return 2;
  }
  const store = usagePlan ? await usagePlanStore(usagePlan) : localStore(dataDir ?? loadConfig().dataDir);
  try {
    if (action === 'create') {
      const key = await store.create(target!);
      console.log(`created key ${target}; it is shown once, here:`);
      console.log(key);
    } else if (action === 'list') {
      const keys = await store.list();
      if (keys.length === 0) console.log('no keys');
      for (const key of keys) console.log([key.name, key.state, key.created ? `created ${key.created}` : ''].filter(Boolean).join('\t'));
    } else {
      if (!(await store.revoke(target!))) {
        console.error(`no active key is named ${target}`);
        return 1;
      }
      console.log(`revoked key ${target}`);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  return 0;
}
