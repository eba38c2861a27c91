/** Internal: small file-system helpers that answer questions instead of throwing. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export async function isFile(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => undefined))?.isFile() ?? false;
}

export async function isDirectory(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => undefined))?.isDirectory() ?? false;
}

/** The file's text, or `undefined` if it cannot be read as a file. */
export async function readText(absolute: string): Promise<string | undefined> {
  if (!(await isFile(absolute))) return undefined;
  return readFile(absolute, 'utf8').catch(() => undefined);
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
