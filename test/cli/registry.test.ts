/** Private registries from the CLI: `--image-pull-secret`, `--registry-*` with BODYWORK_REGISTRY_PASSWORD, and the sandbox's registries variable. */
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { registryFromFlags, sandboxRegistries } from '../../src/cli/registry.js';
import { CliExit } from '../../src/cli/io.js';
import { registrySecretForms } from '../../src/engine/deploy/pull-secrets.js';
import { clearSecrets, redact } from '../../src/engine/redact.js';
import { batchProject, useDeploySandbox } from '../engine/deploy/helpers.js';
import { cli, cliWithEnv } from './support/run-cli.js';

const IMAGE = 'ghcr.io/acme/cli-private:3';
const USER = 'cli-bot';
const PASSWORD = 'glpat-CliRegistryPassword-7Hq2';

const s = useDeploySandbox({ kubelet: { registries: [{ server: 'ghcr.io', username: USER, password: PASSWORD, images: [IMAGE] }] } });

async function project(name: string): Promise<string> {
  return s.project(batchProject(name, 'train', { train: { script: 'print("cli private image ran", flush=True)\n' } }));
}

describe('bodywork-deploy deploy with a private image', () => {
  it('creates the registry Secret from --registry-* and $BODYWORK_REGISTRY_PASSWORD, printing no form of the password', async () => {
    const dir = await project('cli-registry');
    const run = await cliWithEnv(
      { BODYWORK_REGISTRY_PASSWORD: PASSWORD },
      'deploy', dir, '--kubeconfig', s.kubeconfigFile, '--image', IMAGE, '--registry-server', 'ghcr.io', '--registry-username', USER, '--verbose', '--timeout', '2m',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('[train] cli private image ran');
    for (const form of registrySecretForms({ server: 'ghcr.io', username: USER, password: PASSWORD })) expect(run.stdout + run.stderr).not.toContain(form);
    const secret = await s.client.find<V1Secret>('Secret', 'cli-registry', 'bodywork-registry');
    expect(secret?.type).toBe('kubernetes.io/dockerconfigjson');
  });

  it('fails on the pull report without a pull secret, and refuses a named one that does not exist', async () => {
    const dir = await project('cli-registry-none');
    const none = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--image', IMAGE, '--timeout', '5m');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/deployment failed|ErrImagePull|ImagePullBackOff/);
    expect(none.stderr).toContain('401 Unauthorized');
    expect(none.stderr).not.toMatch(/timed out/);
    const missing = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--image', IMAGE, '--image-pull-secret', 'nowhere');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('image pull secret "nowhere" does not exist in namespace "cli-registry-none"');
  });

  it('asks for the password in the environment, never as an argument', async () => {
    const dir = await project('cli-registry-half');
    const run = await cliWithEnv({ BODYWORK_REGISTRY_PASSWORD: '' }, 'deploy', dir, '--kubeconfig', s.kubeconfigFile, '--registry-server', 'ghcr.io', '--registry-username', USER);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('registry credentials need a password or token (set $BODYWORK_REGISTRY_PASSWORD)');
    expect((await cli('deploy', '--help')).stdout).not.toContain('--registry-password');
  });

  it('plans the pull secrets on the pod templates', async () => {
    const dir = await project('cli-registry-plan');
    const run = await cli('plan', dir, '--image-pull-secret', 'regcred', '--image-pull-secret', 'other');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\n( +)imagePullSecrets:\n\1 {2}- name: regcred\n\1 {2}- name: other\n/);
  });
});

describe('registry configuration from the environment', () => {
  it('reads the sandbox registries and redacts their passwords', () => {
    clearSecrets();
    const registries = sandboxRegistries({ BODYWORK_SANDBOX_REGISTRIES: JSON.stringify([{ server: 'ghcr.io', username: 'u', password: 'sandbox-pass-123', images: [IMAGE] }]) });
    expect(registries).toEqual([{ server: 'ghcr.io', username: 'u', password: 'sandbox-pass-123', images: [IMAGE] }]);
    expect(redact('pw sandbox-pass-123')).toBe('pw ***');
    expect(sandboxRegistries({})).toEqual([]);
    expect(() => sandboxRegistries({ BODYWORK_SANDBOX_REGISTRIES: '{"server": 1}' })).toThrow(CliExit);
    expect(() => sandboxRegistries({ BODYWORK_SANDBOX_REGISTRIES: 'not json' })).toThrow(CliExit);
  });

  it('gives the plan its pull secrets, adding bodywork-registry with credentials', () => {
    expect(registryFromFlags({ imagePullSecret: ['a'] }, {})).toEqual({ imagePullSecrets: ['a'] });
    // A password in the environment alone configures nothing.
    expect(registryFromFlags({}, { BODYWORK_REGISTRY_PASSWORD: 'x' })).toEqual({});
    const r = registryFromFlags({ imagePullSecret: ['a'], registryServer: 'ghcr.io', registryUsername: 'u' }, { BODYWORK_REGISTRY_PASSWORD: 'env-pass-456' });
    expect(r.imagePullSecrets).toEqual(['a', 'bodywork-registry']);
    expect(r.secret?.type).toBe('kubernetes.io/dockerconfigjson');
    expect(redact(`auth ${Buffer.from('u:env-pass-456').toString('base64')}`)).toBe('auth ***');
  });
});
