/** runBatchStage and the step logic around it, end to end against the sandbox (stages are python scripts run on this machine). */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobNameFor } from '../../../src/engine/deploy/batch-stage.js';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { clusterTarget } from '../../support/cluster.js';
import { batchProject, newRunId, planDir, sharedDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

const project = s.project;

/** A directory the stages and the test exchange marker files through (helpers.ts sharedDir). */
async function scratch(): Promise<string> {
  const dir = await sharedDir();
  dirs.push(dir);
  return dir;
}

/** Python that prints `line`, then waits (at most 20 s) for `file` to exist: proof that the line was read while the stage ran. */
function printThenWait(line: string, file: string): string {
  return [
    'import os, sys, time',
    `print(${JSON.stringify(line)}, flush=True)`,
    'deadline = time.time() + 20',
    `while not os.path.exists(${JSON.stringify(file)}):`,
    '    if time.time() > deadline:',
    '        print("never released", flush=True)',
    '        sys.exit(3)',
    '    time.sleep(0.05)',
    '',
  ].join('\n');
}

describe('a batch stage that always fails, with RETRIES=2', () => {
  it('runs 3 attempts, fails with BackoffLimitExceeded, streams every attempt live and skips later steps', async () => {
    const dir = await scratch();
    const release = join(dir, 'released');
    const files = batchProject('flaky', 'train >> after', {
      train: { retries: 2, script: `${printThenWait('attempt running', release)}print("boom: bad data", flush=True)\nsys.exit(1)\n` },
      after: { script: 'print("must not run")\n' },
    });
    const d2 = await project(files);
    const { spec, plan } = await planDir(d2);
    const logger = new RecordingLogger();
    const lines: { stage: string; line: string }[] = [];
    const runId = newRunId();
    const r = await deployProject({
      client: s.client,
      logger,
      spec,
      plan,
      runId,
      timeoutMs: 60_000,
      onLogLine: (stage, line) => {
        lines.push({ stage, line });
        // The first attempt blocks until its first line has reached us: only a live stream releases it.
        if (line === '[train] attempt running' && !existsSync(release)) writeFileSync(release, '');
      },
    });
    expect(r.status).toBe('failure');
    const [train, after] = r.stages;
    expect(train).toMatchObject({ stage: 'train', status: 'failed', attempts: 3, object: `Job/${jobNameFor(plan.steps[0].stages[0], runId)}` });
    expect(train.reason).toMatch(/^BackoffLimitExceeded: /);
    expect(train.reason).toContain('exit code 1');
    expect(after).toMatchObject({ stage: 'after', status: 'skipped', attempts: 0 });
    // Every attempt's lines arrived, prefixed with the stage; none says it was never released.
    expect(lines.filter((l) => l.line === '[train] attempt running')).toHaveLength(3);
    expect(lines.filter((l) => l.line === '[train] boom: bad data')).toHaveLength(3);
    expect(lines.every((l) => l.stage === 'train' && l.line.startsWith('[train] '))).toBe(true);
    expect(lines.some((l) => l.line.includes('never released'))).toBe(false);
    // One channel: the lines went to onLogLine, not to the logger as well.
    expect(logger.entries.filter((e) => e.message.includes('boom: bad data'))).toEqual([]);
    // The log tail holds the failing attempts' last lines, prefixed with their pods.
    expect(train.logTail?.at(-1)).toMatch(/^train-.+: boom: bad data$/);
    expect(new Set(train.logTail?.map((l) => l.split(':')[0])).size).toBe(3);
    // Three pods, as the Job controller made them.
    const pods = await s.client.list<V1Pod>('Pod', plan.namespace, { labelSelector: `job-name=${jobNameFor(plan.steps[0].stages[0], runId)}` });
    expect(pods.items).toHaveLength(3);
    expect(logger.messages('group')).toEqual(['Step 1/2: train']);
  });
});

describe('a per-attempt script limit', () => {
  it('ends an attempt whose script runs too long, naming the setting as the YAML spells it', async () => {
    const dir = await project(batchProject('slow', 'sleepy', { sleepy: { maxSeconds: 1, script: 'import time\nprint("sleeping", flush=True)\ntime.sleep(60)\n' } }));
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 50_000 });
    expect(r.status).toBe('failure');
    expect(r.stages[0]).toMatchObject({ status: 'failed', attempts: 1 });
    // The reason is the script limit's, not the run's 50 s deadline.
    expect(r.stages[0].reason).toMatch(/: exceeded max_completion_time_seconds \(1 s\)$/);
  });
});

describe('a batch pod that cannot start', () => {
  it('fails the stage at once with the scheduler\'s reason, and deletes the Job', async () => {
    const dir = await project(batchProject('too-big', 'huge', { huge: { cpu: 4096, script: 'print("never")\n' } }));
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 50_000 });
    // Failed by the scheduler's reason (below), not by the run's 50 s deadline.
    expect(r.stages[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.stages[0].reason).toMatch(/^pod huge-\S+ cannot start: Unschedulable: .*cpu/i);
    // The scheduler's Warning event comes with the failure. The embedded scheduler records it with the pod's condition;
    // upstream's recorder sends it asynchronously (best effort), so it may not be there yet when the failure is seen.
    if (clusterTarget() === 'embedded') {
      expect(r.stages[0].events).toEqual([expect.objectContaining({ object: expect.stringMatching(/^Pod\/huge-/), reason: 'FailedScheduling', message: expect.stringMatching(/cpu/i) })]);
    }
    const jobs = await s.client.list<V1Job>('Job', plan.namespace);
    expect(jobs.items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
  });
});

describe('a successful two-step DAG', () => {
  it('runs the steps in order and keeps only the latest Job of each stage', async () => {
    const dir = await project(
      batchProject('two-steps', 'prepare >> train', {
        prepare: { script: 'print("preparing", flush=True)\n' },
        train: { script: 'import os\nprint("training in", os.getcwd(), "stage", os.environ["BODYWORK_STAGE"], flush=True)\n' },
      }),
    );
    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const runs = [newRunId(), newRunId()];
    let r;
    for (const runId of runs) {
      r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId, timeoutMs: 60_000, onLogLine: (_s, l) => lines.push(l) });
      expect(r.status).toBe('success');
    }
    const [prepare, train] = r!.stages;
    expect(prepare).toMatchObject({ stage: 'prepare', step: 1, status: 'succeeded', attempts: 1 });
    expect(train).toMatchObject({ stage: 'train', step: 2, status: 'succeeded', attempts: 1 });
    expect(Date.parse(train.startedAt!)).toBeGreaterThanOrEqual(Date.parse(prepare.startedAt!) + prepare.durationMs!);
    expect(lines).toContain('[train] training in /bodywork/project/train stage train');
    expect(lines.indexOf('[prepare] preparing')).toBeLessThan(lines.indexOf('[train] training in /bodywork/project/train stage train'));
    // The first run's Jobs were deleted after the second run's steps; the second run's remain.
    const jobs = await s.client.list<V1Job>('Job', plan.namespace);
    const live = jobs.items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name);
    expect(live.sort()).toEqual([jobNameFor(plan.steps[0].stages[0], runs[1]), jobNameFor(plan.steps[1].stages[0], runs[1])].sort());
  });
});

describe('keepJobs', () => {
  it('keeps that many finished Jobs per stage; 0 deletes them all', async () => {
    const dir = await project(batchProject('keep-jobs', 'only', { only: { script: 'print("ran")\n' } }));
    const { spec, plan } = await planDir(dir);
    const live = async () => (await s.client.list<V1Job>('Job', plan.namespace)).items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name).sort();
    const runs = [newRunId(), newRunId()];
    // Back to back: on kube-apiserver an earlier run's Job may not be marked Complete yet when the next cleans up.
    for (const runId of runs) expect((await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId, timeoutMs: 60_000, keepJobs: 2 })).status).toBe('success');
    expect(await live()).toEqual(runs.map((runId) => jobNameFor(plan.steps[0].stages[0], runId)).sort());
    expect((await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000, keepJobs: 0 })).status).toBe('success');
    expect(await live()).toEqual([]);
    await expect(deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), keepJobs: -1 })).rejects.toThrow(/keepJobs/);
  });
});

describe('two stages of one step', () => {
  it('run concurrently', async () => {
    const dir = await scratch();
    const files = batchProject('concurrent', 'left, right >> last', {
      // Each stage announces itself with a file, then waits for the other's: only concurrent stages can both finish.
      left: { script: `open(${JSON.stringify(join(dir, 'left'))}, "w").close()\n${printThenWait('left waiting', join(dir, 'right'))}print("left done")\n` },
      right: { script: `open(${JSON.stringify(join(dir, 'right'))}, "w").close()\n${printThenWait('right waiting', join(dir, 'left'))}print("right done")\n` },
      last: { script: 'print("last")\n' },
    });
    const d2 = await project(files);
    const { spec, plan } = await planDir(d2);
    const logger = new RecordingLogger();
    const r = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 60_000 });
    expect(r.stages.map((x) => [x.stage, x.status])).toEqual([
      ['left', 'succeeded'],
      ['right', 'succeeded'],
      ['last', 'succeeded'],
    ]);
    const [left, right] = r.stages;
    const window = (x: typeof left) => [Date.parse(x.startedAt!), Date.parse(x.startedAt!) + x.durationMs!];
    const [l0, l1] = window(left);
    const [r0, r1] = window(right);
    expect(l0).toBeLessThan(r1);
    expect(r0).toBeLessThan(l1);
    expect(logger.messages('group')).toEqual(['Step 1/2: left, right', 'Step 2/2: last']);
  });
});

describe('run_on_failure', () => {
  it('runs after a failed step with EXCEPTION_MESSAGE set to the failure', async () => {
    const dir = await project(
      batchProject(
        'with-handler',
        'breaks',
        {
          breaks: { script: 'import sys\nprint("oops", flush=True)\nsys.exit(4)\n' },
          handler: { script: 'import os\nprint("handling:", os.environ["EXCEPTION_MESSAGE"], flush=True)\n' },
        },
        { runOnFailure: 'handler' },
      ),
    );
    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000, onLogLine: (_s, l) => lines.push(l) });
    expect(r.status).toBe('failure');
    expect(r.stages.map((x) => [x.stage, x.step, x.status])).toEqual([
      ['breaks', 1, 'failed'],
      ['handler', 0, 'succeeded'],
    ]);
    const handled = lines.find((l) => l.startsWith('[handler] handling: '));
    expect(handled).toContain("stage 'breaks' failed: BackoffLimitExceeded");
    expect(handled).toContain('exit code 4');
  });

  it('does not run when the run succeeds', async () => {
    const dir = await project(
      batchProject('no-handler-needed', 'works', { works: { script: 'print("fine")\n' }, handler: { script: 'print("handler ran")\n' } }, { runOnFailure: 'handler' }),
    );
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000 });
    expect(r.status).toBe('success');
    expect(r.stages.map((x) => x.stage)).toEqual(['works']);
  });
});
