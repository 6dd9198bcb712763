// One benchmark workload in its own process, so its time and peak memory are its own.
import * as workloads from './workloads.js';

const [name, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson ?? '[]') as unknown[];
const workload = (workloads as unknown as Record<string, (...a: unknown[]) => Promise<workloads.Measured>>)[name!];
if (!workload) throw new Error(`no workload ${name}`);
const result = await workload(...args);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
