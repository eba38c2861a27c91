/**
 * The CLI as an npm package: `npm pack` ships the bundles and action.yml only, with no runtime dependency (the
 * bundles are self-contained), so it installs from the tarball with an empty npm cache and no network
 * (`--offline`), and the installed `bodywork-deploy` works. This is what `npm install -g github:OWNER/REPO#vX` and a
 * publish to npm would give a user.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { repo } from './support/run-cli.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cli-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed CLI', () => {
  it('declares no runtime dependency and packs only dist/, action.yml and the package files', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.version).toBe(VERSION);
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    // npm adds package.json, the README and a licence file, when there is one, to what `files` names.
    const licence = existsSync(join(repo, 'LICENSE')) ? ['LICENSE'] : [];
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual([...licence, 'README.md', 'action.yml', 'package.json'].sort());
    expect(files).toEqual(expect.arrayContaining(['dist/cli/index.js', 'dist/index.js', 'dist/post/index.js', 'dist/package.json']));
  }, 120_000);

  it('installs from the tarball offline, with an empty cache, and runs', async () => {
    const { stdout: packed } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
    const tarball = join(dir, JSON.parse(packed)[0].filename);
    const prefix = join(dir, 'prefix');
    // An empty cache and --offline: any package to download would fail the install.
    await run('npm', ['install', '--global', '--prefix', prefix, '--cache', join(dir, 'empty-cache'), '--offline', '--no-audit', '--no-fund', tarball], { cwd: dir });
    const bin = join(prefix, 'bin', 'bodywork-deploy');
    expect((await run(bin, ['--version'])).stdout.trim()).toBe(VERSION);
    const validated = await run(bin, ['validate', join(repo, 'examples', 'iris-pipeline')], { cwd: dir });
    expect(validated.stdout).toMatch(/iris-pipeline\/bodywork\.ini is a valid Bodywork project \(2 stages in 2 steps\)\n$/);
  }, 180_000);
});
