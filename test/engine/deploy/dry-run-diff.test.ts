/** The diff of plan --server, without a cluster: server-owned fields left out, Secret values masked as kubectl diff masks them. */
import { describe, expect, it } from 'vitest';
import { diffFileName, maskSecrets, normalize, objectDiff } from '../../../src/engine/deploy/dry-run-diff.js';

const secret = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns', resourceVersion: '7', uid: 'u' }, data });

describe('the dry-run diff', () => {
  it('masks Secret values: *** when unchanged or one-sided, *** (before) / *** (after) when changed', () => {
    const [a, b] = maskSecrets(secret({ same: 'YQ==', changed: 'Yg==', gone: 'Yw==' }), secret({ same: 'YQ==', changed: 'ZA==', added: 'ZQ==' }));
    expect(a?.data).toEqual({ same: '***', changed: '*** (before)', gone: '***' });
    expect(b?.data).toEqual({ same: '***', changed: '*** (after)', added: '***' });
    const diff = objectDiff('v1.Secret.ns.s', secret({ k: Buffer.from('old-value').toString('base64') }), secret({ k: Buffer.from('new-value').toString('base64') }));
    expect(diff).toContain('-  k: "*** (before)"\n+  k: "*** (after)"');
    expect(diff).not.toMatch(/old-value|new-value|b2xkLXZhbHVl|bmV3LXZhbHVl/);
  });

  it('leaves out what the server owns and the per-run annotation; nothing to show when only those differ', () => {
    const live = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', resourceVersion: '1', generation: 1, managedFields: [{}], annotations: { 'bodywork.dev/run-id': 'a' } }, spec: { replicas: 1 }, status: { readyReplicas: 1 } };
    const planned = { ...live, metadata: { ...live.metadata, resourceVersion: '2', generation: 2, annotations: { 'bodywork.dev/run-id': 'b' } }, status: {} };
    expect(normalize(live)).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1 } });
    expect(objectDiff('apps.v1.Deployment.ns.d', live, planned)).toBe('');
  });

  it('compares a per-run Job with the stage\'s last one without their names and the labels made from them', () => {
    const job = (name: string, uid: string, cpu: string) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, uid, labels: { stage: 'train', 'batch.kubernetes.io/job-name': name, 'controller-uid': uid } },
      spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } }, template: { metadata: { labels: { stage: 'train', 'job-name': name } }, spec: { containers: [{ resources: { requests: { cpu } } }] } } },
    });
    const diff = objectDiff('batch.v1.Job.ns.train-2', job('train-1', 'u1', '100m'), job('train-2', 'u2', '200m'), { job: true });
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-              cpu: 100m', '+              cpu: 200m']);
  });

  it('names objects as kubectl diff does', () => {
    expect(diffFileName({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ml', name: 'api' })).toBe('apps.v1.Deployment.ml.api');
    expect(diffFileName({ apiVersion: 'v1', kind: 'Namespace', name: 'ml' })).toBe('v1.Namespace.ml');
  });
});
