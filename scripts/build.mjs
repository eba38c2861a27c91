// Builds the committed bundles with @vercel/ncc: dist/index.js (the action), dist/post/index.js (its
// post step) and dist/cli/index.js (the CLI).
//
// ncc takes over a minute on client-node's generated models, so the build is incremental, as make is:
// dist/build-inputs.sha256 records a hash of every input (src/, the lockfile, package.json, tsconfig,
// this script); when it matches, the bundles are already what these inputs build (ncc is
// deterministic: check-dist proves it) and nothing is rebuilt. `--force` always rebuilds.
// With --check it always builds into a temporary directory and fails when the committed dist/ differs,
// so a stale or hand-edited bundle can never ship (CI runs it).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const check = process.argv.includes('--check');
const force = process.argv.includes('--force');
const root = new URL('..', import.meta.url).pathname;
const out = check ? mkdtempSync(join(tmpdir(), 'bodywork-dist-')) : join(root, 'dist');
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const HASH_FILE = 'build-inputs.sha256';

const bundles = [
  ['src/action/main.ts', '.'],
  ['src/action/post.ts', 'post'],
  ['src/cli/main.ts', 'cli'],
];

const listFiles = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((f) => String(f).split('\\').join('/'))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();

function inputsHash() {
  const hash = createHash('sha256');
  const files = [...listFiles(join(root, 'src')).map((f) => `src/${f}`), 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs'];
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  return `${hash.digest('hex')}\n`;
}

const hash = inputsHash();
const hashPath = join(root, 'dist', HASH_FILE);
if (!check && !force && existsSync(hashPath) && readFileSync(hashPath, 'utf8') === hash && bundles.every(([, dir]) => existsSync(join(out, dir, 'index.js')))) {
  console.log('dist/ is already built from these sources (build-inputs.sha256 matches); use --force to rebuild');
  process.exit(0);
}

if (!check) rmSync(out, { recursive: true, force: true });
// The bundles are independent, so they build side by side.
await Promise.all(
  bundles.map(([entry, dir]) =>
    promisify(execFile)(ncc, ['build', join(root, entry), '-o', join(out, dir), '--minify', '--no-source-map-register', '--quiet', '--target', 'es2023'], {
      maxBuffer: 64 * 1024 * 1024,
    }),
  ),
);
// ESM bundles need a "type": "module" marker beside them, as actions/checkout ships.
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
const cli = join(out, 'cli', 'index.js');
const code = readFileSync(cli, 'utf8');
if (!code.startsWith('#!')) writeFileSync(cli, `#!/usr/bin/env node\n${code}`, { mode: 0o755 });
writeFileSync(join(out, HASH_FILE), hash);

if (check) {
  const fresh = listFiles(out);
  const committed = existsSync(join(root, 'dist')) ? listFiles(join(root, 'dist')) : [];
  const stale = [...new Set([...fresh, ...committed])].filter((f) => {
    const a = join(out, f);
    const b = join(root, 'dist', f);
    return !existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b));
  });
  rmSync(out, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(`dist/ is stale (${stale.join(', ')}). Run \`npm run build\` and commit dist/.`);
    process.exit(1);
  }
  console.log('dist/ is up to date');
} else {
  console.log(`built ${bundles.map(([e]) => relative(root, join(root, e))).join(', ')} into dist/`);
}
