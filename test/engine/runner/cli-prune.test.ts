/**
 * A runner start deletes the CLI bundles (the ConfigMaps each CLI version ships, cli-bundle.ts) that no Job or
 * CronJob of the namespace references any more, and never one in use: referenced by a Job or a CronJob (of any
 * project), or created or reused within the grace period. A start that reuses a bundle marks it as used.
 */
import type { V1ConfigMap, V1CronJob, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../src/engine/kube/index.js';
import { ANNOTATION_CLI_USED_AT } from '../../../src/engine/runner/cli-prune.js';
import { batchProject, useDeploySandbox } from '../deploy/helpers.js';
import { finalRecord, runnerCli, useBuiltCli } from './helpers.js';

const s = useDeploySandbox();
const built = useBuiltCli();
const run = runnerCli(built, () => s.kubeconfigFile);

const ns = 'runner-prune';
const DAY_AGO = new Date(Date.now() - 86_400_000).toISOString();

/** A CLI bundle ConfigMap as an older CLI left it, last used at `usedAt`. */
const bundle = (name: string, usedAt: string): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels: { 'bodywork.dev/runner-cli-hash': name.slice(20, 30) }, annotations: { [ANNOTATION_CLI_USED_AT]: usedAt } },
  immutable: true,
  data: { 'boot.mjs': '// an older CLI\n' },
});

/** A pod template mounting `configMap` as the runner's does. */
const mounting = (configMap: string) => ({
  spec: {
    restartPolicy: 'Never',
    containers: [{ name: 'runner', image: 'node:24-slim', command: ['node', '/bodywork/cli/boot.mjs'] }],
    volumes: [{ name: 'bodywork-cli', projected: { sources: [{ configMap: { name: configMap } }] } }],
  },
});

describe("pruning the runner's old CLI bundles", () => {
  it('deletes the unreferenced old ones when a runner starts, keeps those in use, and marks a reused one', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const names = { unused: 'bodywork-runner-cli-0ld0000001-1', byJob: 'bodywork-runner-cli-j0b0000001-1', byCron: 'bodywork-runner-cli-cr0n000001-1', recent: 'bodywork-runner-cli-rec0000001-1' };
    for (const [key, name] of Object.entries(names)) await s.client.create(bundle(name, key === 'recent' ? new Date().toISOString() : DAY_AGO) as unknown as Manifest);
    await s.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-a-bundle', namespace: ns }, data: { a: 'b' } });
    const job: V1Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'older-runner', namespace: ns }, spec: { suspend: true, template: mounting(names.byJob) } };
    await s.client.create(job as unknown as Manifest);
    const cron: V1CronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'other-project-schedule', namespace: ns }, spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { template: mounting(names.byCron) } } } };
    await s.client.create(cron as unknown as Manifest);

    const dir = await s.project(batchProject('runner-prune', 'only', { only: { script: 'print("ran", flush=True)\n' } }));
    const first = await run('deploy', dir, '--runner', 'cluster', '-n', ns, '-o', 'json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`deleted 1 unused ConfigMap of older runner CLIs in namespace=${ns}: ${names.unused}`);
    const left = async () => (await s.client.list<V1ConfigMap>('ConfigMap', ns)).items;
    const after = (await left()).map((c) => c.metadata!.name!);
    expect(after).not.toContain(names.unused);
    expect(after).toEqual(expect.arrayContaining([names.byJob, names.byCron, names.recent, 'not-a-bundle']));
    const current = (await s.client.get<V1Job>('Job', ns, JSON.parse(first.stdout).job)).spec!.template.spec!.volumes!.find((v) => v.name === 'bodywork-cli')!.projected!.sources!.map((x) => x.configMap!.name!);
    expect(after).toEqual(expect.arrayContaining(current));
    await finalRecord(s.client, ns, JSON.parse(first.stdout).job);

    // The next start finds its bundle present (here as if last used a day ago): it marks it as used now, which a
    // concurrent prune respects, and keeps it, as its new Job references it.
    for (const name of current) await s.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, annotations: { [ANNOTATION_CLI_USED_AT]: DAY_AGO } } }, { fieldManager: 'test' });
    const second = await run('deploy', dir, '--runner', 'cluster', '-n', ns, '-o', 'json');
    expect(second.code, second.stderr).toBe(0);
    const marked = (await left()).filter((c) => current.includes(c.metadata!.name!));
    expect(marked.map((c) => new Date(c.metadata?.annotations?.[ANNOTATION_CLI_USED_AT] ?? 0).getTime() > Date.parse(DAY_AGO))).toEqual(current.map(() => true));
    expect(marked.every((c) => c.immutable === true && c.binaryData !== undefined)).toBe(true);
  });
});
