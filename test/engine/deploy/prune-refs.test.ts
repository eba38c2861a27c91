/** Which code bundles are still in use: the pure part of pruning (no cluster). */
import { describe, expect, it } from 'vitest';
import { referencedConfigMaps } from '../../../src/engine/deploy/prune.js';

const mounting = (bundle: string) => ({ containers: [{ name: 'c' }], volumes: [{ name: 'code', projected: { sources: [{ configMap: { name: bundle } }] } }] });
const owned = (kind: string, uid: string) => [{ apiVersion: 'v1', kind, name: uid, uid, controller: true }];

describe('referencedConfigMaps', () => {
  it('counts the bundles of live workloads, of pod templates, of pods and of CronJobs', () => {
    const refs = referencedConfigMaps(
      [
        { kind: 'Deployment', items: [{ metadata: { uid: 'd1' }, spec: { template: { spec: mounting('from-deployment') } } }] },
        { kind: 'Pod', items: [{ metadata: { uid: 'p1' }, spec: mounting('from-pod') }] },
        { kind: 'CronJob', items: [{ metadata: { uid: 'c1' }, spec: { jobTemplate: { spec: { template: { spec: mounting('from-cronjob') } } } } }] },
      ],
      new Set(),
    );
    expect([...refs].sort()).toEqual(['from-cronjob', 'from-deployment', 'from-pod']);
  });

  it('does not count an object being deleted, one pruned now, nor the dependents of an owner that is gone or going', () => {
    const refs = referencedConfigMaps(
      [
        { kind: 'Job', items: [{ metadata: { uid: 'j-doomed' }, spec: { template: { spec: mounting('doomed-job') } } }] },
        {
          kind: 'Pod',
          items: [
            { metadata: { uid: 'p-deleting', deletionTimestamp: new Date() }, spec: mounting('deleting') },
            { metadata: { uid: 'p-of-doomed', ownerReferences: owned('Job', 'j-doomed') }, spec: mounting('pod-of-doomed-job') },
            { metadata: { uid: 'p-orphan', ownerReferences: owned('ReplicaSet', 'rs-gone') }, spec: mounting('pod-of-gone-rs') },
            { metadata: { uid: 'p-kept', ownerReferences: owned('Job', 'j-kept') }, spec: mounting('pod-of-live-job') },
          ],
        },
        { kind: 'Job', items: [{ metadata: { uid: 'j-kept' }, spec: { template: { spec: mounting('live-job') } } }] },
      ],
      new Set(['j-doomed']),
    );
    expect([...refs].sort()).toEqual(['live-job', 'pod-of-live-job']);
  });
});
