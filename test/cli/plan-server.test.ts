/** `bodywork-deploy plan --server`: the API server's dry run of every object, the diff, the exit code; nothing written. */
import { describe, expect, it } from 'vitest';
import { batchProject, foreignDeployment, httpServer, namespaceObjects, useDeploySandbox } from '../engine/deploy/helpers.js';
import { cli } from './support/run-cli.js';

const s = useDeploySandbox();

const project = (name: string, port: number) =>
  batchProject(name, 'train >> api', { train: { script: 'print("trained", flush=True)\n' }, api: { script: httpServer(port, 'ok'), service: { port } } });

describe('bodywork-deploy plan --server', () => {
  it('prints each object as the server would create it and the diff, never a Secret value, and writes nothing', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cli-dry' } });
    const dir = await s.project(project('cli-dry', 5701));
    const r = await cli('plan', dir, '--server', '--kubeconfig', s.kubeconfigFile, '--secret', 'creds.TOKEN=plan-secret-value-42');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^unchanged {3}Namespace cli-dry\nto create {3}ServiceAccount cli-dry\/bodywork-stage\n/);
    expect(r.stdout).toMatch(/^to create {3}Job cli-dry\/train-\S+ \(new each run\)$/m);
    expect(r.stdout).toContain('--- /dev/null\n+++ MERGED/apps.v1.Deployment.cli-dry.api\n');
    expect(r.stdout).toMatch(/^\+ {2}TOKEN: ["']?\*\*\*["']?$/m);
    expect(r.stderr).toMatch(/^the API server accepts every object it checked in namespace cli-dry \(8 to create, 1 unchanged\)$/m);
    expect(r.stdout + r.stderr).not.toContain('plan-secret-value-42');
    expect(r.stdout + r.stderr).not.toContain(Buffer.from('plan-secret-value-42').toString('base64'));
    expect(await namespaceObjects(s.client, 'cli-dry')).toEqual([]);
  });

  it('reports every refusal with the object and the server message, and exits 1', async () => {
    const ns = 'cli-dry-refused';
    await foreignDeployment(s.client, ns, 'api');
    const dir = await s.project(project(ns, 5702));
    const r = await cli('plan', dir, '--server', '--kubeconfig', s.kubeconfigFile);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^refused {5}Deployment cli-dry-refused\/api: Deployment\.apps "api" is invalid: spec\.selector: Invalid value: .*field is immutable/);
    expect(r.stderr).toMatch(/^error: the API server refuses Deployment cli-dry-refused\/api: Deployment\.apps "api" is invalid: .*field is immutable/m);
    expect(r.stderr).toMatch(/error: plan --server: the API server refuses 1 object \(Deployment \S+\/api\); nothing was written\n$/);

    const json = await cli('plan', dir, '--server', '--kubeconfig', s.kubeconfigFile, '-o', 'json');
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { server: { ok: boolean; refused: { object: string; reason: string }[] } };
    expect(doc.server.ok).toBe(false);
    expect(doc.server.refused).toEqual([expect.objectContaining({ object: `Deployment ${ns}/api`, reason: 'Invalid' })]);
    expect(await namespaceObjects(s.client, ns)).toEqual(['Deployment/api']);
  });

  it('takes cluster flags only with --server', async () => {
    const dir = await s.project(project('cli-dry-flags', 5703));
    const r = await cli('plan', dir, '--kubeconfig', s.kubeconfigFile);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --kubeconfig, --context, --secret and --secrets-file are for plan --server\n');
  });
});
