import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfigError, decodeContent, kubeconfigSecrets, loadKubeConfig } from '../../../src/engine/kube/index.js';

const TWO_CONTEXTS = `
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
    certificate-authority-data: Q0FEQVRB
- name: dev
  cluster:
    server: https://dev.example.com
users:
- name: ci
  user:
    token: ci-token-abcdef
- name: admin
  user:
    client-certificate-data: Y2VydC1kYXRhLXh5eg==
    client-key-data: a2V5LWRhdGEtc2VjcmV0
- name: basic
  user:
    username: alice
    password: hunter2-password
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env:
      - name: AWS_SECRET_ACCESS_KEY
        value: aws-secret-value-123
      - name: AWS_PROFILE
        value: deploy
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        client-id: bodywork
        client-secret: oidc-client-secret
        id-token: oidc-id-token-value
        refresh-token: oidc-refresh-token
        idp-issuer-url: https://issuer.example.com
contexts:
- name: prod
  context: { cluster: prod, user: ci, namespace: ml-prod }
- name: dev
  context: { cluster: dev, user: admin }
current-context: prod
`;

const OTHER = `
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: { server: https://shadowed.example.com }
- name: staging
  cluster: { server: https://staging.example.com }
users:
- name: stage-user
  user: { token: staging-token-999 }
contexts:
- name: staging
  context: { cluster: staging, user: stage-user, namespace: ml-staging }
current-context: staging
`;

let dir: string;
let file: string;
let other: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  file = join(dir, 'config');
  other = join(dir, 'other');
  writeFileSync(file, TWO_CONTEXTS);
  writeFileSync(other, OTHER);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKubeConfig', () => {
  it('loads a file by path and uses its current-context', () => {
    const loaded = loadKubeConfig({ path: file, env: {} });
    expect(loaded).toMatchObject({ source: 'path', files: [file], context: 'prod', namespace: 'ml-prod', server: 'https://prod.example.com:6443' });
    expect(loaded.kc.getCurrentUser()?.token).toBe('ci-token-abcdef');
  });

  it('loads plain YAML content and picks the requested context', () => {
    const loaded = loadKubeConfig({ content: TWO_CONTEXTS, context: 'dev', env: {} });
    expect(loaded).toMatchObject({ source: 'content', context: 'dev', server: 'https://dev.example.com' });
    expect(loaded.namespace).toBeUndefined();
    expect(loaded.kc.getCurrentUser()?.name).toBe('admin');
  });

  it('loads base64-encoded content, also wrapped over several lines', () => {
    const b64 = Buffer.from(TWO_CONTEXTS).toString('base64');
    const wrapped = b64.replace(/(.{76})/g, '$1\n');
    expect(loadKubeConfig({ content: b64, env: {} }).context).toBe('prod');
    expect(loadKubeConfig({ content: wrapped, env: {} }).server).toBe('https://prod.example.com:6443');
    expect(decodeContent(TWO_CONTEXTS)).toBe(TWO_CONTEXTS);
  });

  it('names the available contexts when the requested one is missing', () => {
    expect(() => loadKubeConfig({ content: TWO_CONTEXTS, context: 'staging', env: {} })).toThrow(
      new KubeConfigError("context 'staging' is not in the kubeconfig (available contexts: 'prod', 'dev')"),
    );
  });

  it('rejects content that is neither YAML nor base64 YAML', () => {
    expect(() => loadKubeConfig({ content: 'bm90IGEga3ViZWNvbmZpZw==', env: {} })).toThrow('the kubeconfig content is neither YAML nor base64-encoded YAML');
    expect(() => loadKubeConfig({ content: 'just: a map', env: {} })).toThrow('the kubeconfig content is not a valid kubeconfig: it defines no clusters and no contexts');
  });

  it('reports a missing file by path', () => {
    expect(() => loadKubeConfig({ path: join(dir, 'nope'), env: {} })).toThrow(`kubeconfig file '${join(dir, 'nope')}' does not exist`);
  });

  it('merges the KUBECONFIG list as kubectl does: first definition and first current-context win', () => {
    const loaded = loadKubeConfig({ env: { KUBECONFIG: `${file}:${join(dir, 'missing')}:${other}` } });
    expect(loaded.source).toBe('KUBECONFIG');
    expect(loaded.files).toEqual([file, other]);
    expect(loaded.context).toBe('prod');
    expect(loaded.server).toBe('https://prod.example.com:6443');
    expect(loaded.kc.getContexts().map((c) => c.name)).toEqual(['prod', 'dev', 'staging']);
    const staging = loadKubeConfig({ env: { KUBECONFIG: `${file}:${other}` }, context: 'staging' });
    expect(staging).toMatchObject({ namespace: 'ml-staging', server: 'https://staging.example.com' });
  });

  it('falls back to ~/.kube/config, then explains what is missing', () => {
    const home = join(dir, 'home');
    const kubeDir = join(home, '.kube');
    expect(() => loadKubeConfig({ env: { HOME: home } })).toThrow(/^no kubeconfig found: pass one .* or run inside a cluster$/);
    mkdirSync(kubeDir, { recursive: true });
    writeFileSync(join(kubeDir, 'config'), OTHER);
    expect(loadKubeConfig({ env: { HOME: home } })).toMatchObject({ source: '~/.kube/config', context: 'staging' });
  });

  it('uses the in-cluster service account when KUBERNETES_SERVICE_HOST is set and nothing else is', () => {
    const loaded = loadKubeConfig({ env: { HOME: join(dir, 'empty-home'), KUBERNETES_SERVICE_HOST: '10.0.0.1' } });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.context).toBe('inClusterContext');
    expect(loaded.server).toBe('https://10.0.0.1:443');
  });

  it('with inCluster, takes the service account of BODYWORK_SERVICEACCOUNT_DIR over any kubeconfig', () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa, { recursive: true });
    const env = { KUBECONFIG: join(dir, 'nothing-here'), KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', BODYWORK_SERVICEACCOUNT_DIR: sa };
    expect(() => loadKubeConfig({ inCluster: true, env })).toThrow(/token does not exist/);
    writeFileSync(join(sa, 'token'), 'tok');
    writeFileSync(join(sa, 'ca.crt'), 'ca');
    writeFileSync(join(sa, 'namespace'), 'ml\n');
    const loaded = loadKubeConfig({ inCluster: true, env });
    expect(loaded).toMatchObject({ source: 'in-cluster', server: 'https://10.96.0.1:443', namespace: 'ml' });
    expect(() => loadKubeConfig({ inCluster: true, env: {} })).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
  });
});

describe('kubeconfigSecrets', () => {
  it('gives a client key file whole and line by line, without the PEM armour', () => {
    const keyFile = join(dir, 'client.key');
    writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n');
    const content = ['apiVersion: v1', 'clusters: [{ name: c, cluster: { server: https://k.example } }]', `users: [{ name: u, user: { client-key: ${keyFile} } }]`, 'contexts: [{ name: x, context: { cluster: c, user: u } }]', 'current-context: x'].join('\n');
    const secrets = kubeconfigSecrets(loadKubeConfig({ content, env: {} }).kc);
    expect(secrets).toEqual(['-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----', 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49', 'AwEHBG0wawIBAQQg']);
  });

  it('finds tokens, client key and cert data, passwords, exec env values and auth-provider secrets', () => {
    const { kc } = loadKubeConfig({ content: TWO_CONTEXTS, env: {} });
    const secrets = kubeconfigSecrets(kc);
    for (const s of [
      'ci-token-abcdef',
      'a2V5LWRhdGEtc2VjcmV0',
      'Y2VydC1kYXRhLXh5eg==',
      'hunter2-password',
      'aws-secret-value-123',
      'deploy',
      'oidc-client-secret',
      'oidc-id-token-value',
      'oidc-refresh-token',
    ]) {
      expect(secrets).toContain(s);
    }
    // Not credentials: server URLs, user names, the exec command, the OIDC issuer and client id.
    for (const s of ['https://prod.example.com:6443', 'alice', 'aws', 'https://issuer.example.com', 'bodywork']) expect(secrets).not.toContain(s);
  });
});
