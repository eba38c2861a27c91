/**
 * The code bundle: the project's files shipped to the cluster in immutable ConfigMaps, so stage pods run
 * exactly the files that were planned (Bodywork's pods cloned the branch tip instead, bodywork-behaviour.md §7.4).
 *
 * - Every file under the project directory except VCS, dependency and cache folders (`EXCLUDED_DIRS`, `EXCLUDED_FILES`).
 * - ConfigMap keys cannot contain `/` (`[-._a-zA-Z0-9]+`), so each path is flattened to a key and a
 *   projected volume maps the keys back to paths with `items[].path`.
 * - UTF-8 files go to `data`, anything else to `binaryData` (base64).
 * - Named by content: `<project>-code-<hash10>` (`-1`, `-2`, … when split), so the same files give the
 *   same names and any change gives new ones; `immutable: true` lets kubelets stop watching them.
 * - Split at `CONFIGMAP_BUDGET_BYTES` each (the API server refuses ConfigMaps over 1 MiB), and refused over
 *   `BUNDLE_LIMIT_BYTES` in all: larger projects should use the `git` code source.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { V1ConfigMap, V1Volume } from '@kubernetes/client-node';
import type { ProjectSpec } from '../config/spec.js';
import { projectLabels } from './labels.js';
import { shortHash, toDnsLabel } from './names.js';
import type { CodeBundle } from './types.js';

/** Name of the projected volume holding the project. */
export const CODE_VOLUME_NAME = 'bodywork-project';
/** Encoded bytes (keys + values) per ConfigMap: under the API server's 1 MiB, leaving room for metadata. */
export const CONFIGMAP_BUDGET_BYTES = 900 * 1024;
/** Encoded bytes of a whole bundle; beyond this, ConfigMaps are the wrong way to ship code. */
export const BUNDLE_LIMIT_BYTES = 8 * 1024 * 1024;
/** Folders never bundled: version control, virtual environments, dependency and tool caches. */
export const EXCLUDED_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  '.venv',
  'venv',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.tox',
  '.ipynb_checkpoints',
  '.idea',
  '.vscode',
]);
/** Files never bundled. */
export const EXCLUDED_FILES = [/\.py[co]$/, /^\.DS_Store$/];
/** Label carrying the bundle's content hash on its ConfigMaps. */
export const LABEL_CODE_HASH = 'bodywork.dev/code-hash';

/** The project cannot be shipped in ConfigMaps (too large, or a file too large for one). */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

interface BundleFile {
  path: string;
  key: string;
  content: Buffer;
  /** True when the content is not UTF-8 and goes to `binaryData`. */
  binary: boolean;
  /** Bytes it takes in the ConfigMap: key plus value (base64 for binary). */
  encodedBytes: number;
}

const MIB = 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(content: Buffer): boolean {
  try {
    utf8.decode(content);
    return true;
  } catch {
    return false;
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/**
 * Lists the project's files (relative, forward slashes, sorted), skipping excluded folders and files,
 * symlinked folders and dangling links. A symlinked file is bundled only when it points inside the
 * project: a link to `~/.kube/config` must not end up in a ConfigMap (or a job summary).
 */
export async function listProjectFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const realRoot = await realpath(root);
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!EXCLUDED_DIRS.has(entry.name)) await walk(abs, rel);
        continue;
      }
      if (EXCLUDED_FILES.some((re) => re.test(entry.name))) continue;
      if (entry.isSymbolicLink()) {
        if ((await stat(abs).catch(() => undefined))?.isFile() !== true) continue;
        const target = await realpath(abs);
        if (!target.startsWith(realRoot + sep)) {
          throw new BundleError(`${rel} links to ${target}, outside the project directory; refusing to ship it to the cluster (copy the file into the project instead)`);
        }
        files.push(rel);
      } else if (entry.isFile()) {
        files.push(rel);
      }
    }
  }
  await walk(root, '');
  return files.sort();
}

/**
 * Flattens paths into distinct ConfigMap keys: `/` becomes `__`, other invalid characters `_`; a key that
 * clashes, starts with `..` or is too long gets a hash of its path instead of its tail.
 */
export function configMapKeys(paths: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const used = new Set<string>();
  for (const path of [...paths].sort()) {
    let key = path.replace(/\//g, '__').replace(/[^-._a-zA-Z0-9]/g, '_');
    if (key.startsWith('..')) key = `_${key}`;
    if (used.has(key) || key.length > 253) key = `${key.slice(0, 200)}-${shortHash(path)}`;
    keys.set(path, key);
    used.add(key);
  }
  return keys;
}

/**
 * Reads the project's files and packs them into content-addressed, immutable ConfigMaps plus the
 * projected volume that mounts them. Throws `BundleError` when the project is too large for ConfigMaps.
 */
export async function bundleProject(spec: Pick<ProjectSpec, 'root' | 'name'>): Promise<CodeBundle> {
  const paths = await listProjectFiles(spec.root);
  const keys = configMapKeys(paths);
  const files: BundleFile[] = [];
  const digest = createHash('sha256');
  for (const path of paths) {
    const content = await readFile(join(spec.root, path));
    const binary = !isUtf8(content);
    const key = keys.get(path) as string;
    const encodedBytes = key.length + (binary ? Math.ceil(content.length / 3) * 4 : content.length);
    files.push({ path, key, content, binary, encodedBytes });
    // Length-prefixed, so no two different file sets hash alike.
    digest.update(`${Buffer.byteLength(path)}:${path}:${content.length}:`).update(content);
  }
  const hash = digest.digest('hex');

  // Size limits
  const oversized = files.filter((f) => f.encodedBytes > CONFIGMAP_BUDGET_BYTES);
  if (oversized.length > 0) {
    throw new BundleError(
      `${oversized.map((f) => `${f.path} (${formatMiB(f.encodedBytes)})`).join(', ')} ${oversized.length === 1 ? 'is' : 'are'} larger than one ConfigMap holds ` +
        `(${CONFIGMAP_BUDGET_BYTES / 1024} KiB): keep data and models out of the project directory (e.g. in object storage), or use the \`git\` code source (code-source: git) so stages clone the repository`,
    );
  }
  const total = files.reduce((n, f) => n + f.encodedBytes, 0);
  if (total > BUNDLE_LIMIT_BYTES) {
    throw new BundleError(
      `the project's files take ${formatMiB(total)} in ConfigMaps, more than the ${formatMiB(BUNDLE_LIMIT_BYTES)} limit: ` +
        `keep data and models out of the project directory, or use the \`git\` code source (code-source: git) so stages clone the repository`,
    );
  }

  // Split in path order into ConfigMaps of at most CONFIGMAP_BUDGET_BYTES each.
  const chunks: BundleFile[][] = [];
  let size = Infinity;
  for (const file of files) {
    if (size + file.encodedBytes > CONFIGMAP_BUDGET_BYTES) {
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1]?.push(file);
    size += file.encodedBytes;
  }

  // Room for `-code-<hash10>-<n>` within 63 characters.
  const base = `${toDnsLabel(spec.name, 40)}-code-${hash.slice(0, 10)}`;
  const configMaps: V1ConfigMap[] = chunks.map((chunk, i) => {
    const data: Record<string, string> = {};
    const binaryData: Record<string, string> = {};
    for (const f of chunk) {
      if (f.binary) binaryData[f.key] = f.content.toString('base64');
      else data[f.key] = f.content.toString('utf8');
    }
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: chunks.length === 1 ? base : `${base}-${i + 1}`, labels: { ...projectLabels(toDnsLabel(spec.name)), [LABEL_CODE_HASH]: hash.slice(0, 10) } },
      immutable: true,
      ...(Object.keys(data).length > 0 ? { data } : {}),
      ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
    };
  });

  const volume: V1Volume = {
    name: CODE_VOLUME_NAME,
    projected: {
      sources: configMaps.map((cm, i) => ({
        configMap: { name: cm.metadata?.name as string, items: (chunks[i] ?? []).map((f) => ({ key: f.key, path: f.path })) },
      })),
    },
  };
  return { hash, configMaps, volume, files: paths, totalBytes: files.reduce((n, f) => n + f.content.length, 0) };
}
