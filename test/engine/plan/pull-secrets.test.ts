/** Image pull secrets in the plan, the registry Secret's docker config and what is masked of it, the pull-failure reason. */
import { describe, expect, it } from 'vitest';
import { checkRegistryCredentials, dockerConfigJson, registryKey, registrySecret, registrySecretForms } from '../../../src/engine/deploy/pull-secrets.js';
import { withPullFailure } from '../../../src/engine/deploy/pod-events.js';
import { PlanError, planProject, REGISTRY_SECRET } from '../../../src/engine/plan/index.js';
import { irisPipelineSpec } from './specs.js';

describe('planned image pull secrets', () => {
  it("are set on every Job's and Deployment's pod template, each once, and on the plan", () => {
    const plan = planProject(irisPipelineSpec(), { imagePullSecrets: ['regcred', ' bodywork-registry ', 'regcred'] });
    const templates = plan.steps.flatMap((s) => s.stages).map((st) => (st.type === 'batch' ? st.job.spec?.template : st.deployment.spec?.template));
    expect(templates).toHaveLength(2);
    for (const t of templates) expect(t?.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: REGISTRY_SECRET }]);
    expect(plan.imagePullSecrets).toEqual(['regcred', REGISTRY_SECRET]);
    // The ServiceAccount is left as it was: the pods carry the secrets themselves.
    expect(plan.setup.find((o) => o.kind === 'ServiceAccount')).not.toHaveProperty('imagePullSecrets');
  });

  it('are absent without the option', () => {
    const plan = planProject(irisPipelineSpec());
    expect(plan.steps[0].stages[0].type === 'batch' && plan.steps[0].stages[0].job.spec?.template.spec).not.toHaveProperty('imagePullSecrets');
    expect(plan).not.toHaveProperty('imagePullSecrets');
  });

  it('refuses a name the API would refuse', () => {
    expect(() => planProject(irisPipelineSpec(), { imagePullSecrets: ['Reg_Cred'] })).toThrow(PlanError);
    expect(() => planProject(irisPipelineSpec(), { imagePullSecrets: ['Reg_Cred'] })).toThrow(/image pull secret 'Reg_Cred' is not a valid Secret name/);
  });
});

describe('the registry Secret', () => {
  const creds = { server: 'https://ghcr.io/', username: 'octocat', password: 'ghs_abcdefgh12345678' };

  it('is a dockerconfigjson Secret keyed by the registry host, with username, password and auth', () => {
    expect(registryKey(creds.server)).toBe('ghcr.io');
    const secret = registrySecret(creds);
    expect(secret).toMatchObject({ name: 'bodywork-registry', type: 'kubernetes.io/dockerconfigjson' });
    expect(JSON.parse(secret.data['.dockerconfigjson'])).toEqual({
      auths: { 'ghcr.io': { username: 'octocat', password: 'ghs_abcdefgh12345678', auth: Buffer.from('octocat:ghs_abcdefgh12345678').toString('base64') } },
    });
  });

  it('masks the password, its base64, the auth field, and the config in both encodings', () => {
    const forms = registrySecretForms(creds);
    const config = dockerConfigJson(creds);
    expect(forms).toEqual([
      'ghs_abcdefgh12345678',
      Buffer.from('ghs_abcdefgh12345678').toString('base64'),
      Buffer.from('octocat:ghs_abcdefgh12345678').toString('base64'),
      config,
      Buffer.from(config).toString('base64'),
    ]);
  });

  it('needs all three of server, username and password, never quoting the password', () => {
    expect(checkRegistryCredentials({})).toBeUndefined();
    expect(checkRegistryCredentials(creds)).toBeUndefined();
    expect(checkRegistryCredentials({ ...creds, server: undefined })).toMatch(/registry server/);
    expect(checkRegistryCredentials({ ...creds, username: '' })).toMatch(/username/);
    expect(checkRegistryCredentials({ ...creds, password: undefined })).toMatch(/password or token/);
    expect(checkRegistryCredentials({ ...creds, username: 'a:b' })).toMatch(/without a colon/);
    const bad = checkRegistryCredentials({ ...creds, password: 'line1\nline2' });
    expect(bad).toMatch(/one line/);
    expect(bad).not.toContain('line1');
  });
});

describe('withPullFailure', () => {
  const failed = { object: 'Pod/p', reason: 'Failed', message: 'Failed to pull image "ghcr.io/a/b:1": rpc error: ... 401 Unauthorized', count: 1 };

  it("adds the registry's answer to a back-off reason", () => {
    const reason = 'ImagePullBackOff: container "bodywork": Back-off pulling image "ghcr.io/a/b:1"';
    expect(withPullFailure(reason, [{ ...failed, reason: 'BackOff', message: 'x' }, failed])).toBe(`${reason}; ${failed.message}`);
  });

  it('leaves other reasons, and back-offs without such an event, as they are', () => {
    expect(withPullFailure('ErrImagePull: container "bodywork": rpc error: 401 Unauthorized', [failed])).toBe('ErrImagePull: container "bodywork": rpc error: 401 Unauthorized');
    expect(withPullFailure('ImagePullBackOff: x', [])).toBe('ImagePullBackOff: x');
  });
});
