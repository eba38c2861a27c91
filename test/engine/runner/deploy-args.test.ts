/** The flags the in-cluster runner passes to its `deploy`: the engine's DeploySettings, defaults included (no cluster). */
import { describe, expect, it } from 'vitest';
import { runnerDeployArgs, runnerStartWaitMs, type RunnerCode } from '../../../src/engine/runner/index.js';
import { parseDeploySettings } from '../../../src/engine/settings.js';

const bundle: RunnerCode = { bundle: { hash: 'h', configMaps: [], volume: { name: 'v' }, files: [], entries: [], totalBytes: 0 } };
const git: RunnerCode = { git: { type: 'git', url: 'https://example.com/p.git', commit: 'abc123' } };

describe('runnerDeployArgs', () => {
  it('passes every setting on, the defaults as well, so the runner deploys as this command would have', () => {
    expect(runnerDeployArgs('ns', parseDeploySettings({}), bundle)).toEqual(['--namespace', 'ns', '--timeout', '1800s', '--lock-timeout', '600s', '--keep-jobs', '1']);
    const settings = parseDeploySettings({ timeout: '90s', lockTimeout: '2m', keepJobs: '0', prune: false, image: 'py:3.12', ingressClass: 'nginx', stages: 'a, b', imagePullSecrets: ['reg'] });
    expect(runnerDeployArgs('ns', settings, bundle, { runId: 'r1', commitSha: 'c0ffee' })).toEqual([
      '--namespace', 'ns', '--commit', 'c0ffee', '--run-id', 'r1', '--timeout', '90s', '--lock-timeout', '120s', '--keep-jobs', '0', '--no-prune',
      '--image', 'py:3.12', '--ingress-class', 'nginx', '--stages', 'a,b', '--image-pull-secret', 'reg',
    ]);
  });

  it("takes the commit from the git source, not the deploy's", () => {
    const args = runnerDeployArgs('ns', parseDeploySettings({}), git, { commitSha: 'ignored' });
    expect(args.slice(0, 8)).toEqual(['--namespace', 'ns', '--code-source', 'git', '--git-url', 'https://example.com/p.git', '--commit', 'abc123']);
    expect(args).not.toContain('ignored');
  });
});

describe('runnerStartWaitMs', () => {
  it("is the run's lock wait and five minutes for the image pull and the set-up", () => {
    expect(runnerStartWaitMs(parseDeploySettings({}))).toBe(15 * 60_000);
    expect(runnerStartWaitMs(parseDeploySettings({ lockTimeout: '1m' }))).toBe(6 * 60_000);
  });
});
