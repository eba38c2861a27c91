// Builds the committed bundles with esbuild: dist/index.js (the action), dist/post/index.js (its post step) and
// dist/cli/index.js (the CLI), each as an ES module with code splitting: what a command imports dynamically
// (client-node, the deploy engine, the sandbox) goes into chunks/ beside its entry and is read only when a command
// needs it, so `--version` and `validate` do not parse client-node's models (the cold-start numbers are in the
// README's Benchmark section). esbuild replaced @vercel/ncc, which put every module in one file and took over a minute.
//
// The build is incremental, as make is: dist/build-inputs.sha256 records a hash of every input (src/, the lockfile,
// package.json, tsconfig, this script); when it matches, the bundles are already what these inputs build (esbuild
// is deterministic: check-dist proves it) and nothing is rebuilt. `--force` always rebuilds.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const check = process.argv.includes('--check');
const force = process.argv.includes('--force');
const root = new URL('..', import.meta.url).pathname;
const outArg = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : undefined;
const out = check ? mkdtempSync(join(tmpdir(), 'bodywork-dist-')) : (outArg ?? join(root, 'dist'));
const HASH_FILE = 'build-inputs.sha256';

const bundles = [
  ['src/action/index.ts', '.'],
  ['src/action/post.ts', 'post'],
  ['src/cli/main.ts', 'cli'],
];

/**
 * @actions/core imports @actions/http-client for `getIDToken` alone, and that imports undici (400 KB) at its top: the
 * action would evaluate undici on every run without ever calling it. Declared free of side effects, both are dropped
 * from a bundle that does not use them (the action asks for no OIDC token); where used (Octokit, in the github chunk),
 * they stay, loaded with that chunk.
 */
const unusedHttpClient = {
  name: 'unused-http-client',
  setup(b) {
    b.onResolve({ filter: /^(@actions\/http-client|undici)$/ }, async (args) => {
      if (args.pluginData === 'unused-http-client') return undefined;
      const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'unused-http-client' });
      return { ...r, sideEffects: false };
    });
  },
};

/**
 * client-node imports `fetch`, `Agent` and `ProxyAgent` from undici (its own 8.x), whose index is CommonJS that
 * evaluates all of undici at once: mocks, caches, WebSocket, EventSource, cookies, HTTP/2 and every other dispatcher,
 * 730 KB that esbuild cannot shake out of CommonJS. Here client-node's `undici` is a module taking the three from the
 * files that define them, so the rest is never bundled (undici's package has no `exports` map: the files are public
 * paths). What the index adds to them is a wrapper of fetch that appends the caller's frames to an error's stack.
 * A name client-node imports that this module lacks fails the build.
 */
const undiciForClientNode = {
  name: 'undici-for-client-node',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, ({ importer }) =>
      /[\\/]@kubernetes[\\/]client-node[\\/]/.test(importer) ? { path: createRequire(importer).resolve('undici'), namespace: 'undici-for-client-node' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'undici-for-client-node' }, ({ path }) => {
      const lib = (file) => JSON.stringify(join(path, '..', 'lib', file));
      return {
        contents: [
          `export { default as Agent } from ${lib('dispatcher/agent.js')};`,
          `export { default as ProxyAgent } from ${lib('dispatcher/proxy-agent.js')};`,
          `export { fetch } from ${lib('web/fetch/index.js')};`,
        ].join('\n'),
        resolveDir: join(path, '..'),
        loader: 'js',
      };
    });
  },
};

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
if (!check && !force && !outArg && existsSync(hashPath) && readFileSync(hashPath, 'utf8') === hash && bundles.every(([, dir]) => existsSync(join(out, dir, 'index.js')))) {
  console.log('dist/ is already built from these sources (build-inputs.sha256 matches); use --force to rebuild');
  process.exit(0);
}

// The bundles read the names Node's own modules export (builtinsWithoutFacade below), which differ between Node
// versions: the committed dist/ is built, and checked, by the Node the action runs on (.node-version, as action.yml
// `using: node24` and the workflows), so that every build of it agrees. A build elsewhere (`--out`, for tests) may
// use another Node; so may a build that finds dist/ already built from these sources.
const NODE_MAJOR = Number(readFileSync(new URL('../.node-version', import.meta.url), 'utf8').trim());
if (!outArg && Number(process.versions.node.split('.')[0]) !== NODE_MAJOR) {
  console.error(`build dist/ with Node ${NODE_MAJOR}, the action's runtime (this is Node ${process.versions.node}): the bundles depend on the version of Node's built-in modules`);
  process.exit(1);
}

/**
 * Node's own modules, imported statically, are read with `process.getBuiltinModule` instead. For `import … from
 * 'node:http'` Node builds an ES module facade, reading every export, which runs the lazy getters too: node:http's
 * WebSocket, CloseEvent and MessageEvent compile Node's internal undici (50-100 ms, for classes nothing here uses);
 * node:process, node:fs and node:util, which commander imports, load process.report, fs's streams, util's parseArgs
 * and more (18 internal modules for `validate`, several ms). The module made here exports the same names, each read
 * where it is used only (a pure call esbuild drops when unused). Not live bindings, which nothing here needs; a name
 * this Node lacks fails the build.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(b) {
    const builtins = new Set(builtinModules);
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, ({ path, kind }) => {
      const name = path.replace(/^node:/, '');
      return kind === 'import-statement' && builtins.has(name) ? { path: name, namespace: 'builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => {
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(`node:${path}`)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      return { contents: [`const m = process.getBuiltinModule('node:${path}');`, 'export default m;', ...exports].join('\n'), loader: 'js' };
    });
  },
};

if (!check && !outArg) rmSync(out, { recursive: true, force: true });
// The bundles are independent, so they build side by side; each keeps its chunks in its own directory.
// The banner gives the bundled CommonJS dependencies (client-node and its own) the `require` an ES module lacks.
await Promise.all(
  bundles.map(([entry, dir]) =>
    build({
      entryPoints: { index: join(root, entry) },
      outdir: join(out, dir),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'es2023',
      minify: true,
      chunkNames: 'chunks/[name]-[hash]',
      banner: { js: "import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);" },
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [builtinsWithoutFacade, unusedHttpClient, undiciForClientNode],
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
  console.log(`built ${bundles.map(([e]) => relative(root, join(root, e))).join(', ')} into ${outArg ?? 'dist/'}`);
}
