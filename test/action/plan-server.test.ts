/**
 * The action's `command: plan` with a kubeconfig: the API server's dry run of every planned object, its verdict and
 * diff in the job summary (escaped, Secret values never shown), the step failing when the server refuses anything,
 * and nothing written to the cluster.
 */
import { describe, expect, it } from 'vitest';
import { batchProject, foreignDeployment, httpServer, namespaceObjects, useDeploySandbox, writeProject } from '../engine/deploy/helpers.js';
import { runAction } from './support/run-action.js';

const s = useDeploySandbox();
const SECRET_VALUE = 'pw-plan-Q7zK2vB9xN4m';

async function workspace(files: Record<string, string>): Promise<string> {
  const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
  s.dirs.push(ws);
  return ws;
}

const pipeline = (name: string, port: number) =>
  batchProject(name, 'train >> api', { train: { script: 'print("trained", flush=True)\n' }, api: { script: httpServer(port, 'ok'), service: { port } } });

describe('the action with command: plan and a kubeconfig', () => {
  it('writes the dry-run verdict and the diff to the summary, escaped, Secret values masked, and writes nothing', async () => {
    const ns = 'action-dry';
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // A Service of the stage's name someone annotated with markup and backticks: cluster text, shown escaped.
    await s.client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: ns, annotations: { note: '```</pre><img src=x onerror=alert(1)>' } },
      spec: { ports: [{ port: 5801 }], selector: { stage: 'api' } },
    });
    const ws = await workspace(pipeline(ns, 5801));
    const run = await runAction({
      inputs: { command: 'plan', 'project-dir': 'project', namespace: ns, kubeconfig: s.sandbox.kubeconfig, secrets: `creds.TOKEN=${SECRET_VALUE}` },
      workspace: ws,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(run.summary).toContain('### Server-side dry run');
    expect(run.summary).toMatch(/✅ the API server accepts every object it checked in namespace action-dry \(7 to create, 1 to update, 1 unchanged\)\./);
    expect(run.summary).toContain('<details><summary>Diff against the cluster');
    expect(run.summary).toContain('+++ MERGED/apps.v1.Deployment.action-dry.api');
    expect(run.summary).toMatch(/--- LIVE\/v1\.Service\.action-dry\.api/);
    // The annotation is in the diff, escaped: no tag, no backtick, so nothing can end the <pre> or open a fence.
    expect(run.summary).toContain('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(run.summary).not.toContain('<img');
    expect(run.summary).not.toContain('`');
    // The Secret's key with its value masked (`"***"`, escaped).
    expect(run.summary).toContain('+  TOKEN: &quot;&#42;&#42;&#42;&quot;');
    expect(run.summary).not.toContain(SECRET_VALUE);
    expect(run.summary).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    expect(run.stdout.split('\n').filter((l) => l.includes(SECRET_VALUE) && !l.startsWith('::add-mask::'))).toEqual([]);
    expect(await namespaceObjects(s.client, ns)).toEqual(['Service/api']);
  });

  it('fails the step, naming every refused object and the server message, and every missing Secret', async () => {
    const ns = 'action-dry-refused';
    await foreignDeployment(s.client, ns, 'api');
    const ws = await workspace(
      batchProject(ns, 'train >> api', { train: { script: 'print("trained", flush=True)\n', secrets: { PASSWORD: 'db-creds' } }, api: { script: httpServer(5802, 'ok'), service: { port: 5802 } } }),
    );
    const run = await runAction({ inputs: { command: 'plan', 'project-dir': 'project', namespace: ns, kubeconfig: s.sandbox.kubeconfig }, workspace: ws });
    expect(run.status).toBe(1);
    expect(run.outputs.status).toBe('failure');
    expect(run.stdout).toContain(`::error::bodywork-deploy: the API server refuses 1 object (Deployment ${ns}/api); 1 Secret or key is missing (db-creds key PASSWORD); nothing was written`);
    expect(run.stdout).toMatch(/^error: stage train \(bodywork\.yaml:\d+\): secret "db-creds" \(for key "PASSWORD"\) does not exist in namespace/m);
    expect(run.summary).toMatch(/<tr><td><code>db-creds<\/code><\/td><td><code>PASSWORD<\/code><\/td><td>stage train \(bodywork\.yaml:\d+\)<\/td><td>secret &quot;db-creds&quot; \(for key &quot;PASSWORD&quot;\) does not exist in namespace &quot;action-dry-refused&quot;<\/td><\/tr>/);
    expect(run.summary).toContain('## ❌ Bodywork plan');
    expect(run.summary).toMatch(/<tr><td><code>Deployment action-dry-refused\/api<\/code><\/td><td>Deployment\.apps &quot;api&quot; is invalid: spec\.selector: Invalid value: .*field is immutable/);
    expect(await namespaceObjects(s.client, ns)).toEqual(['Deployment/api']);
  });

  it('without a kubeconfig input touches no cluster, as before', async () => {
    const ws = await workspace(pipeline('action-dry-none', 5803));
    const run = await runAction({ inputs: { command: 'plan', 'project-dir': 'project' }, workspace: ws });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.summary).not.toContain('Server-side dry run');
  });
});
