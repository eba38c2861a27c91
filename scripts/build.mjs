// Builds the two committed bundles with @vercel/ncc: dist/index.js (the action, plus its post step)
// and dist/cli/index.js (the CLI). With --check it builds into a temporary directory and fails
// when the committed dist/ differs, so a stale bundle can never ship.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const check = process.argv.includes('--check');
const root = new URL('..', import.meta.url).pathname;
const out = check ? mkdtempSync(join(tmpdir(), 'bodywork-dist-')) : join(root, 'dist');
const ncc = join(root, 'node_modules', '.bin', 'ncc');

const bundles = [
  ['src/action/main.ts', '.'],
  ['src/action/post.ts', 'post'],
  ['src/cli/main.ts', 'cli'],
];

if (!check) rmSync(out, { recursive: true, force: true });
// The bundles are independent, so they build side by side: ncc is slow on client-node's generated models.
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

if (check) {
  const list = (dir) =>
    readdirSync(dir, { recursive: true })
      .map((f) => String(f))
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort();
  const fresh = list(out);
  const committed = existsSync(join(root, 'dist')) ? list(join(root, 'dist')) : [];
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
  console.log(`built ${bundles.map(([e]) => relative(root, e)).join(', ')} into dist/`);
}

