/**
 * The in-cluster runner on a node whose pods share the host network (`isolation: 'none'`, as a sandbox started by a
 * non-root user gets): cluster IPs do not route there, so the `kubernetes` Service variables the node gives pods
 * name the API server's real address, and the runner deploys from its pod as on an isolated node.
 */
import { describe, expect, it } from 'vitest';
import { batchProject, useDeploySandbox } from '../deploy/helpers.js';
import { finalRecord, runnerCli, useBuiltCli } from './helpers.js';

const s = useDeploySandbox({ isolation: 'none' });
const built = useBuiltCli();
const run = runnerCli(built, () => s.kubeconfigFile);

describe('the in-cluster runner on the host network', () => {
  it('reaches the API server from its pod and deploys the DAG', async () => {
    const dir = await s.project(batchProject('runner-host', 'first >> second', { first: { script: 'print("first ran", flush=True)\n' }, second: { script: 'print("second ran", flush=True)\n' } }));
    const ns = 'runner-host';
    const started = await run('deploy', dir, '--runner', 'cluster', '-n', ns, '-o', 'json');
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const doc = JSON.parse(started.stdout);
    expect(await finalRecord(s.client, ns, doc.job)).toMatchObject({ phase: 'succeeded', steps: 2 });
    const status = JSON.parse((await run('status', dir, '-n', ns, '-o', 'json')).stdout);
    expect(status.runner.stages.map((x: { stage: string; status: string }) => [x.stage, x.status])).toEqual([
      ['first', 'succeeded'],
      ['second', 'succeeded'],
    ]);
  });
});
