/** The git code source's init container script, run with this machine's sh and git against a local HTTP server. */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GIT_CHECKOUT_PATH, gitFetchScript } from '../../../src/engine/plan/index.js';

describe('gitFetchScript', () => {
  it('sends the token as a Basic http.extraHeader on every request, never in the URL or its output', async () => {
    const token = 'tk-9fQ2mX7Lw4Rz';
    const seen: { url: string; auth?: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', ...(req.headers.authorization !== undefined ? { auth: req.headers.authorization } : {}) });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'git-fetch-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/acme/iris.git`;
      const script = gitFetchScript().replace(`cd ${GIT_CHECKOUT_PATH}`, `cd ${dir}`);
      const out = await new Promise<{ code: number; text: string }>((resolve) => {
        execFile(
          '/bin/sh',
          ['-c', script],
          { env: { PATH: process.env.PATH, HOME: dir, GIT_URL: url, GIT_COMMIT: 'ab'.repeat(20), GIT_TOKEN: token, GIT_TERMINAL_PROMPT: '0' } },
          (e, stdout, stderr) => resolve({ code: e ? Number(e.code) : 0, text: stdout + stderr }),
        );
      });
      expect(out.code).not.toBe(0);
      expect(out.text).toContain(`fetching commit ${'ab'.repeat(20)} from ${url}`);
      expect(out.text).not.toContain(token);
      expect(seen.length).toBeGreaterThan(0);
      for (const r of seen) {
        expect(r.url).not.toContain(token);
        expect(r.auth).toBe(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
      }
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  // A kubelet's emptyDir is root's; the runner's pod (and any override's runAsUser) clones into it as another user.
  it.runIf(process.getuid?.() === 0)('checks out into a root-owned directory as another user, as git 2.35.2+ would refuse', async () => {
    const root = await mkdtemp(join(tmpdir(), 'git-fetch-owner-'));
    try {
      const repo = join(root, 'repo');
      await mkdir(repo);
      await writeFile(join(repo, 'main.py'), 'print(1)\n');
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
      git('init', '-q');
      git('add', '.');
      git('commit', '-q', '-m', 'one');
      const commit = git('rev-parse', 'HEAD');
      // The repository is its server's (here the cloning user's, as git checks a local one too); the checkout is root's.
      execFileSync('chown', ['-R', '1000:1000', repo]);
      const checkout = join(root, 'checkout');
      await mkdir(checkout);
      await chmod(checkout, 0o777);
      await chmod(root, 0o755);
      const script = gitFetchScript().replace(`cd ${GIT_CHECKOUT_PATH}`, `cd ${checkout}`);
      const out = await new Promise<{ code: number; text: string }>((resolve) => {
        execFile('/bin/sh', ['-c', script], { uid: 1000, gid: 1000, env: { PATH: process.env.PATH, HOME: '/', GIT_URL: `file://${repo}`, GIT_COMMIT: commit, GIT_TERMINAL_PROMPT: '0' } }, (e, stdout, stderr) =>
          resolve({ code: e ? Number(e.code) : 0, text: stdout + stderr }),
        );
      });
      expect(out.text).toContain(`checked out ${commit}`);
      expect(out.code, out.text).toBe(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
