/**
 * `checkOnServer` (plan --server) checks the Secrets the run needs, as the deploy and the kubelet would fail on them:
 * a stage's `[secrets]` key (named with its config line), an override's envFrom, an image pull secret; optional
 * references and Secrets the run writes from values pass. Only names and keys reach the report, never a value.
 */
import { describe, expect, it } from 'vitest';
import { checkOnServer } from '../../../src/engine/deploy/dry-run.js';
import { missingSecretLines, problemsLine } from '../../../src/engine/deploy/dry-run-report.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { cli } from '../../cli/support/run-cli.js';
import { batchProject, newRunId, planDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();

const OVERRIDES = `defaults:
  container:
    envFrom:
      - secretRef: { name: env-bundle }
      - secretRef: { name: maybe-there, optional: true }
stages:
  train:
    pod:
      volumes:
        - name: certs
          secret: { secretName: tls-certs, items: [{ key: tls.crt, path: tls.crt }] }
    container:
      volumeMounts:
        - { name: certs, mountPath: /certs }
`;

describe('checkOnServer and Secrets', () => {
  it('reports each missing Secret and key the run needs, with what needs it, and no value', async () => {
    const ns = 'dry-secrets';
    const stored = 'sup3r-stored-value';
    const given = 'g1ven-token-value';
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: ns }, stringData: { USER: stored } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls-certs', namespace: ns }, stringData: { 'tls.crt': stored } });
    const files = batchProject(ns, 'train', { train: { script: 'print(1)\n', secrets: { USER: 'db-creds', PASSWORD: 'db-creds', TOKEN: 'api-token' } } });
    const dir = await s.project({ ...files, 'bodywork-deploy.yaml': OVERRIDES });
    const { plan } = await planDir(dir, { runId: newRunId(), imagePullSecrets: ['regcred'] });
    const job = `Job ${ns}/${plan.steps[0].stages[0].objects.find((o) => o.kind === 'Job')!.metadata!.name}`;

    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan, secrets: [{ name: 'api-token', data: { TOKEN: given } }] });
    expect(r.refused).toEqual([]);
    expect(r.ok).toBe(false);
    expect(r.missingSecrets).toEqual([
      { secret: 'db-creds', key: 'PASSWORD', usedBy: expect.stringMatching(/^stage train \(bodywork\.yaml:\d+\)$/), message: `secret "db-creds" has no key "PASSWORD" in namespace "${ns}"` },
      { secret: 'env-bundle', usedBy: job, message: `secret "env-bundle" does not exist in namespace "${ns}"` },
      { secret: 'regcred', usedBy: job, message: `image pull secret "regcred" does not exist in namespace "${ns}"` },
    ]);
    expect(missingSecretLines(r)[0]).toMatch(/^missing {5}Secret dry-secrets\/db-creds: needed by stage train \(bodywork\.yaml:\d+\): secret "db-creds" has no key "PASSWORD"/);
    expect(problemsLine(r)).toBe('3 Secrets or keys are missing (db-creds key PASSWORD, env-bundle, regcred); nothing was written');
    expect(JSON.stringify(r)).not.toContain(stored);
    expect(JSON.stringify(r)).not.toContain(given);

    // The CLI fails the plan on them, like the deploy would.
    const out = await cli('plan', dir, '--server', '--kubeconfig', s.kubeconfigFile, '--image-pull-secret', 'regcred', '--secret', `api-token.TOKEN=${given}`);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^missing {5}Secret dry-secrets\/db-creds: /);
    expect(out.stderr).toMatch(/^error: Job dry-secrets\/train-\S+: image pull secret "regcred" does not exist in namespace "dry-secrets"$/m);
    expect(out.stderr).toMatch(/error: plan --server: 3 Secrets or keys are missing \(db-creds key PASSWORD, env-bundle, regcred\); nothing was written\n$/);
    expect(out.stdout + out.stderr).not.toContain(stored);
    expect(out.stdout + out.stderr).not.toContain(given);
  });

  it('passes once the Secrets exist; a namespace that does not exist lacks them all', async () => {
    const ns = 'dry-secrets-ok';
    const files = batchProject(ns, 'train', { train: { script: 'print(1)\n', secrets: { PASSWORD: 'db-creds' } } });
    const dir = await s.project(files);
    const { plan } = await planDir(dir, { runId: newRunId() });
    const before = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(before.missingSecrets.map((m) => m.message)).toEqual([`secret "db-creds" (for key "PASSWORD") does not exist in namespace "${ns}"`]);
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: ns }, stringData: { PASSWORD: 'x' } });
    const after = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(after.missingSecrets).toEqual([]);
    expect(after.ok).toBe(true);
  });
});
