/**
 * The CLI bundle the in-cluster runner runs, shipped in ConfigMaps as the stage code is (plan/bundle.ts).
 *
 * Why compressed: the built CLI (`dist/cli`: index.js and its chunks/, self-contained ESM) is about 5.2 MB, 4.2 MB of
 * it client-node's chunk; a ConfigMap holds at most 1 MiB. gzip -9 brings the whole to about 0.8 MB (client-node's
 * chunk alone to about 0.49 MB), and binaryData is base64 on the wire: about 1.07 MB in 2 ConfigMaps instead of 6 or
 * 7 uncompressed. Node has zlib built in, so the pod needs nothing beyond a stock Node image: a small bootstrap
 * (BOOTSTRAP below, shipped beside the files) unpacks them into an emptyDir and imports the CLI. A file whose
 * compressed form would not fit one ConfigMap is cut into numbered parts, which the bootstrap joins.
 *
 * Named by content (`bodywork-runner-cli-<hash10>-<n>`) and immutable, like code bundles: the same CLI gives the same
 * names, so runs and schedules share them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { V1ConfigMap, V1Volume } from '@kubernetes/client-node';
import { CONFIGMAP_BUDGET_BYTES, configMapKeys } from '../plan/index.js';

/** The projected volume of the CLI's ConfigMaps. */
export const CLI_VOLUME_NAME = 'bodywork-cli';
/** The bootstrap's file name in the volume. */
export const BOOTSTRAP_FILE = 'boot.mjs';
/** Label on the CLI ConfigMaps: the bundle's content hash. */
export const LABEL_CLI_HASH = 'bodywork.dev/runner-cli-hash';

/** A CLI bundle directory is not usable (no index.js). */
export class CliBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliBundleError';
  }
}

/**
 * Run by `node <cli volume>/boot.mjs <cli arguments>`: unpacks the CLI from `BODYWORK_RUNNER_CLI` into
 * `BODYWORK_RUNNER_WORK/cli` (its parts joined, then gunzipped), copies the project from `BODYWORK_RUNNER_PROJECT`
 * (when set: a code bundle's volume; a git checkout is used where it is) to `BODYWORK_RUNNER_WORK/project` (ConfigMap
 * volumes hold `..data` links and timestamped folders, which a project directory must not show), marks the tree as ES
 * modules and imports the CLI, which reads process.argv as when run.
 */
export const BOOTSTRAP = `import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
const env = (n) => { const v = process.env[n]; if (!v) throw new Error(n + ' is not set'); return v; };
const [cli, work] = ['BODYWORK_RUNNER_CLI', 'BODYWORK_RUNNER_WORK'].map(env);
const project = process.env.BODYWORK_RUNNER_PROJECT;
const walk = (root, rel = '') => readdirSync(join(root, rel)).filter((n) => !n.startsWith('..')).flatMap((n) => {
  const r = rel === '' ? n : rel + '/' + n;
  return statSync(join(root, r)).isDirectory() ? walk(root, r) : [r];
});
const parts = new Map();
for (const f of walk(cli)) {
  const m = /^(.*)\\.gz\\.(\\d+)$/.exec(f);
  if (m) parts.set(m[1], [...(parts.get(m[1]) ?? []), [Number(m[2]), f]]);
}
for (const [file, list] of parts) {
  const out = join(work, 'cli', file);
  mkdirSync(dirname(out), { recursive: true });
  const gz = Buffer.concat(list.sort((a, b) => a[0] - b[0]).map(([, f]) => readFileSync(join(cli, f))));
  writeFileSync(out, gunzipSync(gz));
}
for (const f of project ? walk(project) : []) {
  mkdirSync(dirname(join(work, 'project', f)), { recursive: true });
  copyFileSync(join(project, f), join(work, 'project', f));
}
writeFileSync(join(work, 'package.json'), '{ "type": "module" }\\n');
await import(pathToFileURL(join(work, 'cli', 'index.js')).href);
`;

export interface CliBundle {
  /** SHA-256 (hex) of every file and the bootstrap. */
  hash: string;
  configMaps: V1ConfigMap[];
  /** The projected volume holding the parts and the bootstrap. */
  volume: V1Volume;
  /** Bytes before and after compression, for logs. */
  rawBytes: number;
  compressedBytes: number;
}

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel))
    .sort()
    .flatMap((name) => {
      const r = rel === '' ? name : `${rel}/${name}`;
      return statSync(join(dir, r)).isDirectory() ? listFiles(dir, r) : [r];
    });
}

/**
 * Packs the built CLI in `dir` (index.js and chunks/*.js, as scripts/build.mjs writes them) into ConfigMaps labelled
 * `labels`, each under CONFIGMAP_BUDGET_BYTES (base64 counted, as the API server's request limit sees it).
 */
export function packCliBundle(dir: string, labels: Record<string, string>): CliBundle {
  if (!existsSync(join(dir, 'index.js'))) throw new CliBundleError(`${dir} holds no CLI bundle (no index.js): build it with node scripts/build.mjs`);
  const files = listFiles(dir).filter((f) => f === 'index.js' || (f.startsWith('chunks/') && f.endsWith('.js')));
  const digest = createHash('sha256').update(BOOTSTRAP);
  const pieces: { path: string; content: Buffer }[] = [];
  let rawBytes = 0;
  // base64 grows 3 bytes to 4; room is left for the key and the bootstrap.
  const maxPiece = Math.floor(((CONFIGMAP_BUDGET_BYTES - 4096) * 3) / 4);
  for (const f of files) {
    const raw = readFileSync(join(dir, f));
    rawBytes += raw.length;
    digest.update(`${f.length}:${f}:${raw.length}:`).update(raw);
    const gz = gzipSync(raw, { level: 9 });
    for (let i = 0, n = 0; i < gz.length; i += maxPiece, n++) pieces.push({ path: `${f}.gz.${String(n).padStart(3, '0')}`, content: gz.subarray(i, i + maxPiece) });
  }
  const hash = digest.digest('hex');
  const keys = configMapKeys([BOOTSTRAP_FILE, ...pieces.map((p) => p.path)]);

  // First fit in order; the bootstrap goes with the first ConfigMap.
  const groups: { path: string; content: Buffer }[][] = [[]];
  let size = BOOTSTRAP.length + BOOTSTRAP_FILE.length;
  for (const p of pieces) {
    const bytes = (keys.get(p.path)?.length ?? 0) + Math.ceil(p.content.length / 3) * 4;
    if (size + bytes > CONFIGMAP_BUDGET_BYTES && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(p);
    size += bytes;
  }
  const base = `bodywork-runner-cli-${hash.slice(0, 10)}`;
  const configMaps: V1ConfigMap[] = groups.map((group, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${base}-${i + 1}`, labels: { ...labels, [LABEL_CLI_HASH]: hash.slice(0, 10) } },
    immutable: true,
    ...(i === 0 ? { data: { [keys.get(BOOTSTRAP_FILE)!]: BOOTSTRAP } } : {}),
    binaryData: Object.fromEntries(group.map((p) => [keys.get(p.path)!, p.content.toString('base64')])),
  }));
  const volume: V1Volume = {
    name: CLI_VOLUME_NAME,
    projected: {
      sources: configMaps.map((cm, i) => ({
        configMap: {
          name: cm.metadata!.name!,
          items: [...(i === 0 ? [{ key: keys.get(BOOTSTRAP_FILE)!, path: BOOTSTRAP_FILE }] : []), ...groups[i].map((p) => ({ key: keys.get(p.path)!, path: p.path }))],
        },
      })),
    },
  };
  return { hash, configMaps, volume, rawBytes, compressedBytes: pieces.reduce((n, p) => n + p.content.length, 0) };
}
