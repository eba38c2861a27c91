/**
 * The code bundle: the project's files shipped to the cluster in immutable ConfigMaps, so stage pods run
 * exactly the files that were planned (Bodywork's pods cloned the branch tip instead, bodywork-behaviour.md §7.4).
 *
 * - The files `selectProjectFiles` picks (project-files.ts): git-tracked ones in a checkout, else what .gitignore
 *   does not exclude; never credential-looking files. What it leaves out is told to `debug`, one line each.
 * - ConfigMap keys cannot contain `/` (`[-._a-zA-Z0-9]+`), so each path is flattened to a key and a
 *   projected volume maps the keys back to paths with `items[].path`.
 * - UTF-8 files go to `data`, anything else to `binaryData` (base64).
 * - Named by content: `<project>-code-<hash10>` (`-1`, `-2`, … when split), so the same files give the
 *   same names and any change gives new ones; `immutable: true` lets kubelets stop watching them.
 * - Split at `CONFIGMAP_BUDGET_BYTES` each (the API server refuses ConfigMaps over 1 MiB), and refused over
 *   `BUNDLE_LIMIT_BYTES` in all: larger projects should use the `git` code source.
 */
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Volume } from '@kubernetes/client-node';
import { readProjectFile } from '../config/files.js';
import type { ProjectSpec } from '../config/spec.js';
import { projectLabels } from './labels.js';
import { shortHash, toDnsLabel } from './names.js';
import { gitLeftOut, type ProjectFileSelection, ProjectFileError, selectProjectFiles } from './project-files.js';
import type { CodeBundle } from './types.js';

/** Name of the projected volume holding the project. */
export const CODE_VOLUME_NAME = 'bodywork-project';
/** Encoded bytes (keys + values) per ConfigMap: under the API server's 1 MiB, leaving room for metadata. */
export const CONFIGMAP_BUDGET_BYTES = 900 * 1024;
/** Encoded bytes of a whole bundle; beyond this, ConfigMaps are the wrong way to ship code. */
export const BUNDLE_LIMIT_BYTES = 8 * 1024 * 1024;
export { EXCLUDED_DIRS, EXCLUDED_FILES } from './project-files.js';
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
  sha256: string;
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

/** The paths the bundle takes (see `selectProjectFiles`); throws `BundleError` for a link out of the project or a non-UTF-8 name. */
export async function listProjectFiles(root: string): Promise<string[]> {
  return (await select(root)).files;
}

async function select(root: string): Promise<ProjectFileSelection> {
  try {
    return await selectProjectFiles(root);
  } catch (error) {
    if (error instanceof ProjectFileError) throw new BundleError(error.message);
    throw error;
  }
}

/** The files a stage cannot run without: the project file, each stage's script, config and requirements. */
function requiredFiles(spec: Partial<Pick<ProjectSpec, 'configFile' | 'stages' | 'format'>>): string[] {
  const stages = Object.values(spec.stages ?? {});
  return [
    ...(spec.configFile !== undefined ? [spec.configFile] : []),
    ...stages.flatMap((s) => [s.executable, ...(s.requirementsFile !== undefined ? [s.requirementsFile] : []), ...(spec.format === 'ini' ? [s.source.file] : [])]),
  ].filter((f) => f !== '');
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

/** What the bundle leaves out of `selection` and why; in a git checkout this asks git again (project-files.ts). */
async function leftOut(root: string, selection: ProjectFileSelection): Promise<ProjectFileSelection['excluded']> {
  return selection.source === 'git' ? [...(await gitLeftOut(root)), ...selection.excluded] : selection.excluded;
}

/**
 * Reads the project's files and packs them into content-addressed, immutable ConfigMaps plus the
 * projected volume that mounts them. Throws `BundleError` when the project is too large for ConfigMaps.
 * `debug`, when given, is told each file left out and why.
 */
export async function bundleProject(
  spec: Pick<ProjectSpec, 'root' | 'name'> & Partial<Pick<ProjectSpec, 'configFile' | 'stages' | 'format'>>,
  debug?: (message: string) => void,
): Promise<CodeBundle> {
  const selection = await select(spec.root);
  const paths = selection.files;
  if (debug !== undefined) for (const { path, reason } of await leftOut(spec.root, selection)) debug(`code bundle: left out ${path} (${reason})`);
  await checkRequiredFiles(spec, selection);
  const { files, hash } = await readBundleFiles(spec.root, paths);
  checkSizes(files);
  const chunks = splitIntoChunks(files);

  // Room for `-code-<hash10>-<n>` within 63 characters.
  const base = `${toDnsLabel(spec.name, 40)}-code-${hash.slice(0, 10)}`;
  const labels = { ...projectLabels(toDnsLabel(spec.name)), [LABEL_CODE_HASH]: hash.slice(0, 10) };
  const configMaps = chunks.map((chunk, i) => configMapOf(chunks.length === 1 ? base : `${base}-${i + 1}`, labels, chunk));
  const volume: V1Volume = {
    name: CODE_VOLUME_NAME,
    projected: {
      sources: configMaps.map((cm, i) => ({
        configMap: { name: cm.metadata?.name as string, items: (chunks[i] ?? []).map((f) => ({ key: f.key, path: f.path })) },
      })),
    },
  };
  return {
    hash,
    configMaps,
    volume,
    files: paths,
    entries: files.map((f) => ({ path: f.path, bytes: f.content.length, sha256: f.sha256 })),
    totalBytes: files.reduce((n, f) => n + f.content.length, 0),
  };
}

/** Throws `BundleError` naming each file a stage needs that the selection left out, and why. */
async function checkRequiredFiles(spec: Pick<ProjectSpec, 'root'> & Partial<Pick<ProjectSpec, 'configFile' | 'stages' | 'format'>>, selection: ProjectFileSelection): Promise<void> {
  const chosen = new Set(selection.files);
  const missing = requiredFiles(spec).filter((f) => !chosen.has(f));
  if (missing.length === 0) return;
  const excluded = await leftOut(spec.root, selection);
  const why = (f: string) => excluded.find((e) => e.path === f || f.startsWith(e.path.endsWith('/') ? e.path : `${e.path}/`))?.reason;
  throw new BundleError(
    missing.map((f) => `${f} is ${selection.source === 'git' && why(f) === 'not tracked by git' ? 'not tracked by git' : `left out of the code bundle (${why(f) ?? 'not found'})`}`).join('; ') +
      (selection.source === 'git' ? ': the bundle ships only files git tracks; git add them (and commit, for CI)' : ''),
  );
}

/** Reads `paths` (in order) with their ConfigMap keys and sizes, and the hash of the whole set. */
async function readBundleFiles(root: string, paths: string[]): Promise<{ files: BundleFile[]; hash: string }> {
  const keys = configMapKeys(paths);
  const files: BundleFile[] = [];
  const digest = createHash('sha256');
  for (const path of paths) {
    const read = await readProjectFile(root, path);
    if (read.content === undefined) throw new BundleError(read.problem);
    const content = read.content;
    const binary = !isUtf8(content);
    const key = keys.get(path) as string;
    const encodedBytes = key.length + (binary ? Math.ceil(content.length / 3) * 4 : content.length);
    files.push({ path, key, content, binary, encodedBytes, sha256: createHash('sha256').update(content).digest('hex') });
    // Length-prefixed, so no two different file sets hash alike.
    digest.update(`${Buffer.byteLength(path)}:${path}:${content.length}:`).update(content);
  }
  return { files, hash: digest.digest('hex') };
}

/** Throws `BundleError` for a file larger than one ConfigMap holds, or a bundle over `BUNDLE_LIMIT_BYTES`. */
function checkSizes(files: BundleFile[]): void {
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
}

/** Splits `files` in path order into ConfigMaps' worth of at most CONFIGMAP_BUDGET_BYTES each. */
function splitIntoChunks(files: BundleFile[]): BundleFile[][] {
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
  return chunks;
}

/** One immutable ConfigMap of the bundle: UTF-8 files in `data`, the rest in `binaryData`. */
function configMapOf(name: string, labels: Record<string, string>, chunk: BundleFile[]): V1ConfigMap {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const f of chunk) {
    if (f.binary) binaryData[f.key] = f.content.toString('base64');
    else data[f.key] = f.content.toString('utf8');
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { ...labels } },
    immutable: true,
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
}
