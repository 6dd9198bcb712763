import { execFileSync } from 'node:child_process';

/** The Lambda tests import the built bundles, as Lambda would: build them once before any test runs. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
