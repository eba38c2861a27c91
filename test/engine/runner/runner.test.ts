/**
 * The in-cluster runner end to end, with the CLI as a user runs it and the runner Job running the built CLI bundle
 * (scripts/build.mjs into a temp dir) on `node:24-slim`, which our node runs with this machine's Node: `deploy
 * --runner cluster` returns once the first step is under way, `status` reports that step and then the final result,
 * `cancel` stops a run (stage Jobs deleted, lock released), `schedule` makes the CronJob.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1CronJob, V1Job, V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/engine/kube/index.js';
import type { RunnerStatus } from '../../../src/engine/runner/index.js';
import { runAction } from '../../action/support/run-action.js';
import { batchProject, sharedDir, useDeploySandbox } from '../deploy/helpers.js';
import { finalRecord as finalOf, runnerCli, useBuiltCli, waitsFor } from './helpers.js';

const s = useDeploySandbox();
const built = useBuiltCli();
const run = runnerCli(built, () => s.kubeconfigFile);
const finalRecord = (namespace: string, job: string) => finalOf(s.client, namespace, job);

describe('the in-cluster runner', () => {
  it('deploys a two-step project from a Job, and status reports the step under way, then the result', async () => {
    const shared = await sharedDir();
    const go = join(shared, 'go');
    const dir = await s.project(batchProject('runner-ok', 'first >> second', { first: { script: waitsFor(go, 'first') }, second: { script: 'print("second ran", flush=True)\n' } }));
    const ns = 'runner-ok';
    const started = await run('deploy', dir, '--runner', 'cluster', '-n', ns, '-o', 'json');
    expect(started.code, started.stderr).toBe(0);
    const doc = JSON.parse(started.stdout);
    expect(doc).toMatchObject({ project: 'runner-ok', namespace: ns, phase: 'running', step: 1, steps: 2, running: ['first'] });
    expect(doc.follow).toBe(`kubectl logs -f job/${doc.job} -n ${ns}`);

    // The first stage waits for the test: status sees step 1 under way, the lock held by the runner.
    const during = await run('status', dir, '-n', ns, '-o', 'json');
    const runner: RunnerStatus = JSON.parse(during.stdout).runner;
    expect(runner).toMatchObject({ job: doc.job, phase: 'running', step: 1, running: ['first'], jobState: 'active' });
    const lease = await s.client.get<V1Lease>('Lease', ns, 'bodywork-deploy');
    expect(lease.spec?.holderIdentity).toMatch(new RegExp(`^${doc.runId} `));

    writeFileSync(go, '');
    const final = await finalRecord(ns, doc.job);
    expect(final).toMatchObject({ phase: 'succeeded', step: 2 });
    const after = await run('status', dir, '-n', ns, '-o', 'json');
    expect(after.code, after.stderr).toBe(0);
    const report = JSON.parse(after.stdout);
    expect(report.runner).toMatchObject({ phase: 'succeeded', job: doc.job });
    expect(report.runner.stages.map((x: { stage: string; status: string }) => [x.stage, x.status])).toEqual([
      ['first', 'succeeded'],
      ['second', 'succeeded'],
    ]);
    expect(report.stages.map((x: { stage: string; status: string }) => [x.stage, x.status])).toEqual([
      ['first', 'succeeded'],
      ['second', 'succeeded'],
    ]);
    expect(await s.client.find('Lease', ns, 'bodywork-deploy')).toBeUndefined();
    const text = await run('status', dir, '-n', ns);
    expect(text.stdout).toContain(`in-cluster runner: Job ${doc.job} (run ${doc.runId}): succeeded in `);
    // The runner's log is the deploy's, with the stage lines.
    const logs = await s.client.list<V1Job>('Job', ns, { labelSelector: 'app.kubernetes.io/component=runner' });
    expect(logs.items.map((j) => j.metadata?.name)).toContain(doc.job);
  });

  it('cancel stops the runner: its stage Jobs deleted, the lock released, the run recorded as cancelled', async () => {
    const shared = await sharedDir();
    const dir = await s.project(batchProject('runner-cancel', 'first >> second', { first: { script: waitsFor(join(shared, 'never'), 'first'), maxSeconds: 120 }, second: { script: 'print("must not run")\n' } }));
    const ns = 'runner-cancel';
    const started = await run('deploy', dir, '--runner', 'cluster', '-n', ns, '-o', 'json');
    expect(started.code, started.stderr).toBe(0);
    const doc = JSON.parse(started.stdout);
    expect(doc).toMatchObject({ phase: 'running', step: 1, running: ['first'] });

    const cancelled = await run('cancel', dir, '-n', ns);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled the in-cluster runner ${doc.job} in namespace ${ns}: run cancelled`);
    const stageJobs = (await s.client.list<V1Job>('Job', ns, { labelSelector: 'stage' })).items.filter((j) => !j.metadata?.deletionTimestamp);
    expect(stageJobs.map((j) => j.metadata?.name)).toEqual([]);
    expect(await s.client.find('Job', ns, doc.job)).toBeUndefined();
    expect(await s.client.find('Lease', ns, 'bodywork-deploy')).toBeUndefined();
    const status = JSON.parse((await run('status', dir, '-n', ns, '-o', 'json')).stdout);
    expect(status.runner).toMatchObject({ job: doc.job, phase: 'cancelled', jobState: 'deleted' });
    expect(status.runner.stages.map((x: { stage: string; status: string }) => [x.stage, x.status])).toEqual([
      ['first', 'cancelled'],
      ['second', 'skipped'],
    ]);
    const again = await run('cancel', dir, '-n', ns);
    expect(again.stdout).toContain('no in-cluster runner of runner-cancel is running');
  });

  it('schedule puts the same runner in a CronJob (which upstream runs)', async () => {
    const dir = await s.project(batchProject('runner-cron', 'only', { only: { script: 'print("scheduled run", flush=True)\n' } }));
    const ns = 'runner-cron';
    const r = await run('schedule', dir, '--cron', '* * * * *', '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`CronJob bodywork-runner-runner-cron in namespace ${ns} runs '* * * * *'`);
    const cron = await s.client.get<V1CronJob>('CronJob', ns, 'bodywork-runner-runner-cron');
    expect(cron.spec?.concurrencyPolicy).toBe('Forbid');
    const pod = cron.spec?.jobTemplate.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('bodywork-runner');
    expect(pod?.containers[0].image).toBe('node:24-slim');
    expect(pod?.containers[0].command).toEqual(['node', '/bodywork/cli/boot.mjs']);
    expect(pod?.containers[0].args?.slice(0, 5)).toEqual(['deploy', '/bodywork/work/project', '--in-cluster', '--progress-job', '$(BODYWORK_RUNNER_JOB)']);
    expect(pod?.containers[0].args).not.toContain('--run-id');

    if (s.sandbox.target === 'upstream') {
      // kube-controller-manager's CronJob controller starts a run within the minute: it deploys like any other.
      const job = await waitFor<V1Job, string>(
        { client: s.client, path: `/apis/batch/v1/namespaces/${ns}/jobs`, labelSelector: 'app.kubernetes.io/component=runner' },
        (all) => [...all.values()][0]?.metadata?.name,
        { timeoutMs: 90_000, description: 'the CronJob to start a run' },
      );
      expect(await finalRecord(ns, job)).toMatchObject({ phase: 'succeeded' });
      const status = JSON.parse((await run('status', dir, '-n', ns, '-o', 'json')).stdout);
      expect(status.schedule).toMatchObject({ name: 'bodywork-runner-runner-cron', schedule: '* * * * *' });
    }
    const removed = await run('schedule', dir, '--delete', '-n', ns);
    expect(removed.stdout).toContain('deleted the schedule bodywork-runner-runner-cron');
  });

  it('the action: runner: cluster ends once the first step is under way; command: status reports it, command: cancel stops it', async () => {
    const shared = await sharedDir();
    const dir = await s.project(batchProject('runner-action', 'first >> second', { first: { script: waitsFor(join(shared, 'never'), 'first'), maxSeconds: 120 }, second: { script: 'print("must not run")\n' } }));
    const ns = 'runner-action';
    const env = built.env();
    const inputs = { kubeconfig: s.sandbox.kubeconfig, namespace: ns, timeout: '5m' };
    const started = await runAction({ workspace: dir, env, inputs: { ...inputs, runner: 'cluster' } });
    expect(started.status, started.stdout + started.stderr).toBe(0);
    const job = started.outputs['runner-job'];
    expect(started.outputs).toMatchObject({ status: 'running', namespace: ns, follow: `kubectl logs -f job/${job} -n ${ns}` });
    expect(started.summary).toContain('Bodywork deploy running in the cluster');

    const status = await runAction({ workspace: dir, env, inputs: { ...inputs, command: 'status' } });
    expect(status.status, status.stdout + status.stderr).toBe(0);
    expect(status.outputs).toMatchObject({ status: 'running', 'runner-phase': 'running', 'runner-job': job });

    const cancel = await runAction({ workspace: dir, env, inputs: { ...inputs, command: 'cancel' } });
    expect(cancel.status, cancel.stdout + cancel.stderr).toBe(0);
    expect(cancel.outputs).toMatchObject({ status: 'success', 'runner-phase': 'cancelled' });
    expect(await s.client.find('Lease', ns, 'bodywork-deploy')).toBeUndefined();

    const after = await runAction({ workspace: dir, env, inputs: { ...inputs, command: 'status' } });
    expect(after.status).toBe(1);
    expect(after.outputs).toMatchObject({ status: 'failure', 'runner-phase': 'cancelled' });
    expect(JSON.parse(after.outputs.stages).map((x: { stage: string; status: string }) => [x.stage, x.status])).toEqual([
      ['first', 'cancelled'],
      ['second', 'skipped'],
    ]);
  });
});
