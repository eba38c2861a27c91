/** Internal: small file-system helpers that answer questions instead of throwing. */
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export async function isFile(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => undefined))?.isFile() ?? false;
}

export async function isDirectory(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => undefined))?.isDirectory() ?? false;
}

/** A project file read through `readProjectFile`: its bytes, or why not (`missing` when there is no such file). */
export type ProjectFile = { content: Buffer; problem?: undefined; missing?: undefined } | { content?: undefined; problem: string; missing: boolean };

/**
 * Reads `relative` (forward slashes) inside the project `root`: the one way config loading and the code bundle
 * read project files, so both refuse the same things. Refused: a path through a symlinked directory (the bundle
 * does not follow them, so what validated would not be shipped), a symlink whose target is outside the project
 * (a link to ~/.ssh/id_rsa must not be read, quoted in an error or shipped), and anything but a regular file.
 */
export async function readProjectFile(root: string, relative: string): Promise<ProjectFile> {
  const problem = await checkProjectFile(root, relative);
  if (problem !== undefined) return problem;
  try {
    return { content: await readFile(path.join(root, relative)) };
  } catch (error) {
    return { problem: `${relative} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, missing: false };
  }
}

/** The UTF-8 text of a project file (see `readProjectFile`); a file that is not UTF-8 text is a problem, never decoded. */
export async function readProjectText(root: string, relative: string): Promise<{ text: string; problem?: undefined; missing?: undefined } | { text?: undefined; problem: string; missing: boolean }> {
  const file = await readProjectFile(root, relative);
  if (file.content === undefined) return file;
  try {
    return { text: utf8.decode(file.content) };
  } catch {
    return { problem: `${relative} is not UTF-8 text; expected a text file`, missing: false };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why `relative` cannot be read as a project file (see `readProjectFile`), or `undefined` when it can. */
export async function checkProjectFile(root: string, relative: string): Promise<{ problem: string; missing: boolean } | undefined> {
  const parts = relative.split('/');
  let current = root;
  for (const [i, part] of parts.entries()) {
    current = path.join(current, part);
    const shown = parts.slice(0, i + 1).join('/');
    const info = await lstat(current).catch(() => undefined);
    if (info === undefined) return { problem: `${shown} does not exist`, missing: true };
    const last = i === parts.length - 1;
    if (!info.isSymbolicLink()) {
      if (last && !info.isFile()) return { problem: `${shown} is not a regular file`, missing: false };
      continue;
    }
    const target = await stat(current).catch(() => undefined);
    if (target === undefined) return { problem: `${shown} is a dangling symbolic link`, missing: true };
    if (!last || target.isDirectory()) {
      return { problem: `${shown} is a symbolic link to a directory; the code bundle does not follow those (make it a real directory)`, missing: false };
    }
    const [realRoot, real] = await Promise.all([realpath(root), realpath(current)]);
    if (!real.startsWith(realRoot + path.sep)) {
      return { problem: `${shown} links to ${real}, outside the project directory; refusing to read or ship it (copy the file into the project instead)`, missing: false };
    }
    if (!target.isFile()) return { problem: `${shown} is not a regular file`, missing: false };
  }
  return undefined;
}

/**
 * Normalises a project-relative path to forward slashes (`a/./b.py` → `a/b.py`); `undefined` when it
 * is absolute or leaves the project (`../x.py`), because stages only see the project's files.
 */
export function projectPath(relative: string): string | undefined {
  const slashed = relative.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed)) return undefined;
  const normalised = path.posix.normalize(slashed);
  if (normalised === '..' || normalised.startsWith('../') || normalised === '.') return undefined;
  return normalised;
}

/** The requirement lines of a pip requirements file: blank lines and `#` comments dropped. */
export function requirementLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}
