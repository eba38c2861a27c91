/**
 * The action with a private image, run as the runner runs it, against a cluster whose node emulates a private
 * registry (ghcr.io): the registry inputs make the `bodywork-registry` pull secret, and the password reaches no log
 * line, summary or output in any encoding; without them the stage fails on the kubelet's pull report.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrySecretForms } from '../../src/engine/deploy/pull-secrets.js';
import { batchProject, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { runAction } from './support/run-action.js';

const IMAGE = 'ghcr.io/acme/iris-train:2';
const USER = 'acme-ci';
const PASSWORD = 'ghs_Rg7TkQ2pZx9LmW4vB8nC1dE5fH3jK6sA';

let s: DeploySandbox;
const dirs: string[] = [];

beforeAll(async () => {
  s = await startDeploySandbox({ kubelet: { registries: [{ server: 'ghcr.io', username: USER, password: PASSWORD, images: [IMAGE] }] } });
});
afterAll(async () => {
  await s?.stop();
  await Promise.all(dirs.map(removeProject));
});

async function workspace(name: string): Promise<string> {
  const files = batchProject(name, 'train', { train: { script: 'print("trained in a private image", flush=True)\n' } });
  const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
  dirs.push(ws);
  return ws;
}

describe('the action with a private image', () => {
  it('pulls with registry-server/username/password and never shows the password in any encoding', async () => {
    const ws = await workspace('registry-demo');
    const run = await runAction({
      workspace: ws,
      inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', image: IMAGE, 'registry-server': 'ghcr.io', 'registry-username': USER, 'registry-password': PASSWORD, timeout: '2m' },
      env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('[train] trained in a private image');
    expect(run.outputs.status).toBe('success');
    const forms = registrySecretForms({ server: 'ghcr.io', username: USER, password: PASSWORD });
    const masks = run.stdout.split('\n').filter((l) => l.startsWith('::add-mask::'));
    for (const form of forms) expect(masks).toContain(`::add-mask::${form}`);
    const unmasked = [run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, run.outputFile];
    for (const text of unmasked) for (const form of forms) expect(text).not.toContain(form);

    const secret = await s.client.get<V1Secret>('Secret', 'registry-demo', 'bodywork-registry');
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('bodywork-deploy');
  });

  it('fails on the pull report without credentials, naming the image and the registry answer', async () => {
    const ws = await workspace('registry-none');
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', image: IMAGE, timeout: '5m' } });
    expect(run.status).not.toBe(0);
    expect(run.outputs.status).toBe('failure');
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::bodywork-deploy: stage'));
    expect(error).toContain("stage 'train' (step 1) failed");
    expect(error).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(error).toContain(IMAGE);
    expect(error).toContain('401 Unauthorized');
    expect(error).not.toMatch(/timed out/);
    const [stage] = JSON.parse(run.outputs.stages) as { reason?: string }[];
    expect(stage.reason).toContain('401 Unauthorized');
    // The summary lists the kubelet's Failed event, escaped.
    expect(run.summary).toContain('Failed to pull image &quot;ghcr.io/acme/iris-train:2&quot;');
  });

  it('refuses incomplete registry credentials before touching the cluster', async () => {
    const ws = await workspace('registry-half');
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', 'registry-server': 'ghcr.io', 'registry-password': PASSWORD } });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('registry credentials need a username');
    expect(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(PASSWORD);
    expect(await s.client.find('Namespace', undefined, 'registry-half')).toBeUndefined();
  });
});
