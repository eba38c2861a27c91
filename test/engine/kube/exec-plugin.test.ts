/**
 * Exec credential plugins: one that is not installed is named with its installHint when the kubeconfig is loaded, and
 * one that runs gets KUBERNETES_EXEC_INFO as kubectl gives it, with the cluster when it asks (provideClusterInfo).
 * End to end: client-node runs a real plugin script, whose token the sandbox's API server accepts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, KubeConfigError, loadKubeConfig } from '../../../src/engine/kube/index.js';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';

let sb: Sandbox;
let dir: string;
beforeAll(async () => {
  sb = await startSandbox({ warn: () => {} });
  dir = mkdtempSync(join(tmpdir(), 'exec-plugin-'));
});
afterAll(async () => {
  await sb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(exec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sbx', cluster: { server: sb.url, 'certificate-authority-data': Buffer.from(sb.caCert).toString('base64') } }],
    users: [{ name: 'ci', user: { exec } }],
    contexts: [{ name: 'sbx', context: { cluster: 'sbx', user: 'ci' } }],
    'current-context': 'sbx',
  });
}

/** A plugin that records its KUBERNETES_EXEC_INFO and answers with the sandbox's token. */
function plugin(name: string): { command: string; seen: string } {
  const seen = join(dir, `${name}.info`);
  const command = join(dir, name);
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: sb.token } });
  writeFileSync(command, `#!/bin/sh\nprintf '%s' "$KUBERNETES_EXEC_INFO" > '${seen}'\necho '${credential}'\n`);
  chmodSync(command, 0o755);
  return { command, seen };
}

describe('exec credential plugins', () => {
  it('names a plugin that is not installed, with the kubeconfig\'s installHint, when the kubeconfig is loaded', () => {
    const content = kubeconfig({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'gke-gcloud-auth-plugin-not-installed',
      installHint: 'Install gke-gcloud-auth-plugin for use with kubectl by following\nhttps://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
    });
    expect(() => loadKubeConfig({ content })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ content })).toThrow(
      "the kubeconfig's user 'ci' gets its credentials from the exec plugin 'gke-gcloud-auth-plugin-not-installed', which is not installed here: " +
        'Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
    );
    expect(() => loadKubeConfig({ content: kubeconfig({ command: '/nowhere/aws', args: ['eks', 'get-token'] }) })).toThrow(/exec plugin '\/nowhere\/aws', which is not installed here \(install it, or put it on PATH/);
  });

  it('gives a plugin KUBERNETES_EXEC_INFO, with the cluster only when it asks for it, and its token authenticates', async () => {
    const asks = plugin('asks');
    const client = KubeClient.create(loadKubeConfig({ content: kubeconfig({ apiVersion: 'client.authentication.k8s.io/v1', command: asks.command, provideClusterInfo: true }) }).kc);
    expect((await client.list('Namespace', undefined)).items.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(asks.seen, 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: sb.url, 'certificate-authority-data': Buffer.from(sb.caCert).toString('base64') } },
    });

    const quiet = plugin('quiet');
    const other = KubeClient.create(loadKubeConfig({ content: kubeconfig({ command: quiet.command }) }).kc);
    await other.list('Namespace', undefined);
    expect(JSON.parse(readFileSync(quiet.seen, 'utf8'))).toEqual({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', spec: { interactive: false } });
  });
});
