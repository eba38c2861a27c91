/**
 * Which of the project's files the code bundle takes, and which it leaves out and why:
 *
 * - In a git checkout, the files git tracks under the project directory (`git ls-files -z`, so a project in a
 *   subdirectory of the repository gets only its own): untracked and ignored files never, since a workspace
 *   holds what earlier steps wrote (cloud-auth credentials, .env files, caches).
 * - Otherwise every file that the project's `.gitignore` files (at any depth) do not exclude, read with `ignore`.
 * - In both, never credential-looking files (`sensitive-files.ts`), tool folders (`EXCLUDED_DIRS`,
 *   `EXCLUDED_FILES`), links to directories, or links that leave the project.
 *
 * Which files git leaves out (untracked, ignored) is another two `git ls-files` runs, each about as long as the first:
 * `gitLeftOut` lists them apart, for the callers that say why a file is not in the bundle (a debug log, an error).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ignoreModule, { type Ignore } from 'ignore';

// A CommonJS package: its typings put the function at `default` (which the package also sets at run time).
const ignore = ignoreModule.default;
import { readProjectFile } from '../config/files.js';
import { sensitiveReason } from './sensitive-files.js';

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

export interface ProjectFileSelection {
  /** Bundled paths: relative, forward slashes, sorted. */
  files: string[];
  /** Paths left out, each with why (folders end with `/`); not those git leaves out (`gitLeftOut`). */
  excluded: { path: string; reason: string }[];
  /** Where the list came from. */
  source: 'git' | 'directory';
}

/** Raised for a file that can be neither shipped nor safely skipped (a link out of the project, a non-UTF-8 name). */
export class ProjectFileError extends Error {}

const run = promisify(execFile);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A path as text, or a `ProjectFileError`: ConfigMap keys and mount paths are text, and a mangled name would be a misleading ENOENT. */
function pathText(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    const shown = [...raw].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    throw new ProjectFileError(`the file name "${shown}" is not UTF-8; a ConfigMap cannot hold it: rename the file (or leave it out with .gitignore)`);
  }
}

/** NUL-separated git output (`-z`), as buffers so that a non-UTF-8 name is seen as such. */
async function gitPaths(root: string, args: string[]): Promise<Buffer[] | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd: root, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    const out: Buffer[] = [];
    let start = 0;
    for (let i = stdout.indexOf(0); i >= 0; i = stdout.indexOf(0, start)) {
      out.push(stdout.subarray(start, i));
      start = i + 1;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** A reason to leave `path` out whatever lists it, or undefined. */
function alwaysExcluded(path: string): string | undefined {
  const parts = path.split('/');
  const dir = parts.slice(0, -1).find((p) => EXCLUDED_DIRS.has(p));
  if (dir !== undefined) return `inside ${dir}/, a tool or cache folder`;
  if (EXCLUDED_FILES.some((re) => re.test(parts.at(-1) ?? ''))) return 'a compiled or cache file';
  const sensitive = sensitiveReason(path);
  return sensitive === undefined ? undefined : `${sensitive}; never shipped`;
}

/** Lists what the bundle takes from `root` (see the module comment). */
export async function selectProjectFiles(root: string): Promise<ProjectFileSelection> {
  // Fails outside a git checkout (or without git): then the directory is read instead.
  const tracked = await gitPaths(root, ['ls-files', '-z', '--cached']);
  const selection = tracked !== undefined ? { files: tracked.map(pathText), excluded: [], source: 'git' as const } : await fromDirectory(root);
  const files: string[] = [];
  for (const path of selection.files) {
    const reason = alwaysExcluded(path);
    if (reason !== undefined) {
      selection.excluded.push({ path, reason });
      continue;
    }
    const checked = await readProjectFile(root, path).then((f) => (f.content === undefined ? f : undefined));
    if (checked === undefined) files.push(path);
    else if (checked.problem.includes('outside the project directory')) throw new ProjectFileError(checked.problem);
    else selection.excluded.push({ path, reason: checked.problem });
  }
  return { ...selection, files: [...new Set(files)].sort() };
}

/** What git leaves out of a selection from `root` (`source: 'git'`): untracked, then ignored paths, each with why. */
export async function gitLeftOut(root: string): Promise<ProjectFileSelection['excluded']> {
  const [untracked, ignored] = await Promise.all([
    gitPaths(root, ['ls-files', '-z', '--others', '--exclude-standard', '--directory']),
    gitPaths(root, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']),
  ]);
  // Said in a debug line or an error message only, so names are decoded leniently.
  return [
    ...(untracked ?? []).map((raw) => ({ path: raw.toString('utf8'), reason: 'not tracked by git' })),
    ...(ignored ?? []).map((raw) => ({ path: raw.toString('utf8'), reason: 'ignored by .gitignore' })),
  ];
}

async function fromDirectory(root: string): Promise<ProjectFileSelection> {
  const files: string[] = [];
  const excluded: ProjectFileSelection['excluded'] = [];
  // Each .gitignore applies to paths relative to its own folder, as git reads them.
  async function walk(dir: string, prefix: string, rules: { base: string; ig: Ignore }[]): Promise<void> {
    const gitignore = await readFile(join(dir, '.gitignore'), 'utf8').catch(() => undefined);
    const here = gitignore === undefined ? rules : [...rules, { base: prefix, ig: ignore().add(gitignore) }];
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    for (const entry of entries.sort((a, b) => Buffer.compare(a.name, b.name))) {
      const name = pathText(entry.name);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const isDir = entry.isDirectory();
      if (isDir && EXCLUDED_DIRS.has(name)) {
        excluded.push({ path: `${rel}/`, reason: 'a tool or cache folder' });
        continue;
      }
      const ignored = here.some(({ base, ig }) => ig.ignores(`${base === '' ? rel : rel.slice(base.length + 1)}${isDir ? '/' : ''}`));
      if (ignored) {
        excluded.push({ path: isDir ? `${rel}/` : rel, reason: 'ignored by .gitignore' });
      } else if (isDir) {
        await walk(join(dir, name), rel, here);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push(rel);
      }
    }
  }
  await walk(root, '', []);
  return { files, excluded, source: 'directory' };
}
