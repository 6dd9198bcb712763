// Stages the Lambda asset that the CDK app deploys: the bundles, page and font from dist/lambda,
// plus sharp's Linux builds for both Lambda architectures. Kept out of dist/ on purpose: the tests
// import dist/lambda on this machine and must find this machine's sharp, not Lambda's.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { copyAssetTree } from './copy-asset-tree.mjs';

const out = 'build/lambda-asset';
const version = async (name) => JSON.parse(await readFile(`node_modules/${name}/package.json`, 'utf8')).version;
const sharpVersion = await version('sharp');
// The decoder the bundles leave out (see scripts/build.mjs): platform-independent JavaScript and WebAssembly.
const portable = { 'libheif-js': await version('libheif-js') };

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await copyAssetTree('dist/lambda', out);

// npm installs one platform's optional packages at a time: install for each Lambda architecture,
// then put the native packages side by side, so the asset works whichever one the stack picks.
for (const cpu of ['arm64', 'x64']) {
  const dir = `build/sharp-${cpu}`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/package.json`, JSON.stringify({ private: true, dependencies: { sharp: sharpVersion, ...portable } }));
  execFileSync('npm', ['install', '--os=linux', `--cpu=${cpu}`, '--libc=glibc', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: dir,
    stdio: 'inherit',
  });
  await copyAssetTree(`${dir}/node_modules`, `${out}/node_modules`);
  await rm(dir, { recursive: true, force: true });
}
