/**
 * Log volume through the action, as the runner runs it: two stages of one step print a few MB each (short numbered
 * lines and `\r` progress bars, test/support/log-volume.ts) at once. Every line reaches the action's log exactly once
 * and whole (a bar as its last state), and the job summary stays small (it never carries the logs). The same at
 * 100 MB, with memory, is `npm run bench:scale`'s; nothing here depends on the machine's speed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { batchProject, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { LogLineTally, linesFor, logVolumeScript } from '../support/log-volume.js';
import { runAction } from './support/run-action.js';

const BYTES_PER_STAGE = 2 * 1024 * 1024;
let s: DeploySandbox;
let ws: string | undefined;

beforeAll(async () => {
  s = await startDeploySandbox();
});
afterAll(async () => {
  await s?.stop();
  if (ws) await removeProject(ws);
});

it('prints every line of two busy stages exactly once, and keeps the summary under 1 MiB', async () => {
  const lines = linesFor(BYTES_PER_STAGE);
  const stages = { 'loud-a': { script: logVolumeScript(lines), maxSeconds: 600 }, 'loud-b': { script: logVolumeScript(lines), maxSeconds: 600 } };
  const files = batchProject('log-volume', 'loud-a, loud-b', stages);
  ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));

  const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', timeout: '10m' } });
  expect(run.status, run.stderr).toBe(0);
  expect(run.outputs.status).toBe('success');

  const tallies = ['loud-a', 'loud-b'].map((stage) => new LogLineTally(stage, lines));
  for (const line of run.stdout.split('\n')) for (const t of tallies) t.add(line);
  for (const t of tallies) expect(t.result()).toEqual({ expected: lines, once: lines, missing: 0, doubled: 0, wrong: 0, ended: true });

  expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
  expect(run.summary).toContain('log-volume');
});
