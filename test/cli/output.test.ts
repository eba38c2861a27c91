/**
 * The CLI to script against, run as a user would against the sandbox: `-o json` prints exactly one JSON document on
 * stdout (every message on stderr), `status` exits 1 when a stage has failed or is not deployed, colours only on a
 * terminal without NO_COLOR, per-replica rollout progress at the default level.
 */
import { execFile } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DeployResult } from '../../src/engine/deploy/types.js';
import type { ProjectStatus } from '../../src/cli/commands/status.js';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';
import { batchProject, httpServer, useDeploySandbox } from '../engine/deploy/helpers.js';
import { cli, repo } from './support/run-cli.js';

const s = useDeploySandbox();

const ESC = '\x1b[';

/** Runs the CLI in-process with `colors` as the streams' colour decision (processIo makes it from isTTY and NO_COLOR). */
async function inProcess(colors: boolean, ...args: string[]) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), colors: { stdout: colors, stderr: colors } };
  const code = await run(args, io);
  return { code, ...out };
}

/** Runs the CLI on a terminal (`script` gives it a pseudo-terminal): stdout and stderr both arrive as the terminal's output. */
function onTerminal(env: Record<string, string>, ...args: string[]): Promise<string> {
  const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { cwd: repo, env: { ...process.env, TERM: 'xterm', ...env } }, (_error, stdout) => resolve(stdout));
  });
}

describe('deploy -o json, status -o json', () => {
  it('prints one JSON document each, messages on stderr, progress per replica; status exits 0 when all is deployed', async () => {
    const dir = await s.project(batchProject('json-ok', 'train >> api', { train: { script: 'print("trained", flush=True)\n' }, api: { script: httpServer(5401, 'ok'), service: { port: 5401 } } }));
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--timeout', '90s', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as DeployResult & { runId: string };
    expect(result).toMatchObject({ project: 'json-ok', namespace: 'json-ok', status: 'success', runId: expect.any(String) });
    expect(result.stages.map((x) => [x.stage, x.type, x.status])).toEqual([
      ['train', 'batch', 'succeeded'],
      ['api', 'service', 'succeeded'],
    ]);
    expect(result.stages[1]).toMatchObject({ url: 'http://api.json-ok.svc.cluster.local:5401', readyReplicas: 1, replicas: 1 });
    // Messages and stage logs on stderr, each stage line once; rollout progress per replica at the default level.
    expect(r.stderr.split('\n').filter((l) => l === '[train] trained')).toHaveLength(1);
    expect(r.stderr).toContain('api: 1/1 new replicas ready\n');
    // Piped: no colour anywhere.
    expect(r.stdout + r.stderr).not.toContain(ESC);

    const st = await cli('status', dir, '--kubeconfig', s.kubeconfigFile, '--output', 'json');
    expect(st.code, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as ProjectStatus;
    expect(status).toMatchObject({ project: 'json-ok', namespace: 'json-ok', namespaceExists: true, ok: true });
    expect(status.stages).toEqual([
      { stage: 'train', type: 'batch', status: 'succeeded', object: expect.stringMatching(/^Job\/train-/) },
      { stage: 'api', type: 'service', status: 'ready', readyReplicas: 1, replicas: 1, url: 'http://api.json-ok.svc.cluster.local:5401', object: 'Deployment/api' },
    ]);
    expect(st.stderr).toBe('');

    // Colours: on a terminal, and not with NO_COLOR; in-process, only when the stream may be coloured.
    if (await hasScript()) {
      expect(await onTerminal({}, 'status', dir, '--kubeconfig', s.kubeconfigFile)).toContain(`${ESC}32msucceeded`);
      expect(await onTerminal({ NO_COLOR: '1' }, 'status', dir, '--kubeconfig', s.kubeconfigFile)).not.toContain(ESC);
    }
    const coloured = await inProcess(true, 'status', dir, '--kubeconfig', s.kubeconfigFile);
    expect(coloured.code).toBe(0);
    expect(coloured.stdout).toContain(`${ESC}32msucceeded${ESC}39m`);
    const plain = await inProcess(false, 'status', dir, '--kubeconfig', s.kubeconfigFile);
    expect(plain.stdout).not.toContain(ESC);
    expect(plain.stdout).toBe(stripVTControlCharacters(coloured.stdout));
  });

  it('status exits 1 when a stage has failed or is not deployed, with the JSON still on stdout', async () => {
    const dir = await s.project(
      batchProject('json-fail', 'prepare >> broken, later', {
        prepare: { script: 'print("ok")\n' },
        broken: { script: 'import sys\nsys.exit(3)\n' },
        later: { script: 'print("later")\n' },
      }),
    );
    const d = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '-o', 'json', '--stages', 'prepare,broken');
    expect(d.code).toBe(1);
    const result = JSON.parse(d.stdout) as DeployResult;
    expect(result.status).toBe('failure');
    expect(result.stages.find((x) => x.stage === 'broken')).toMatchObject({ status: 'failed', reason: expect.stringContaining('exit code 3') });

    const st = await cli('status', dir, '--kubeconfig', s.kubeconfigFile, '-o', 'json');
    expect(st.code).toBe(1);
    const status = JSON.parse(st.stdout) as ProjectStatus;
    expect(status.ok).toBe(false);
    expect(status.stages.map((x) => [x.stage, x.status])).toEqual([
      ['prepare', 'succeeded'],
      ['broken', 'failed'],
      ['later', 'not deployed'],
    ]);
    expect(st.stderr).toBe('not every stage is deployed and healthy: broken failed, later not deployed\n');
    const text = await cli('status', dir, '--kubeconfig', s.kubeconfigFile);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^broken\s+batch\s+failed \(BackoffLimitExceeded\)\s+Job\/broken-/m);

    const gone = await cli('status', 'examples/iris-pipeline', '--kubeconfig', s.kubeconfigFile, '-n', 'never-deployed', '-o', 'json');
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toMatchObject({ namespace: 'never-deployed', namespaceExists: false, ok: false });
    expect(gone.stderr).toContain('namespace=never-deployed does not exist');
  });
});

let scriptChecked: Promise<boolean> | undefined;
/** util-linux `script` (a pseudo-terminal for the colour test); without it that part is skipped. */
function hasScript(): Promise<boolean> {
  scriptChecked ??= new Promise((resolve) => execFile('script', ['--version'], (error) => resolve(!error)));
  return scriptChecked;
}
