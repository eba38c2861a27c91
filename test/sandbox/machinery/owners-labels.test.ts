/** The one ClaimObject and the one label-selector match every controller (and the API server) uses. */
import { describe, expect, it } from 'vitest';
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import { labelsMatch, parseLabelSelector, selectorMatches } from '../../../src/sandbox/machinery/labels.js';
import { claimObjects, controllerRef, ownerRefTo } from '../../../src/sandbox/machinery/owners.js';
import type { KubeObject } from '../../../src/sandbox/types.js';

const pod = (name: string, labels: Record<string, string>, ownerReferences?: KubeObject['metadata']['ownerReferences']): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels, ownerReferences },
  spec: { containers: [{ name: 'main', image: 'busybox' }] },
});

describe('label selectors', () => {
  it('a spec selector and its string form select the same labels', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'old', operator: 'DoesNotExist' }] };
    const cases: Record<string, string>[] = [{ app: 'web', tier: 'a' }, { app: 'web', tier: 'c' }, { app: 'web', tier: 'b', old: '1' }, {}];
    for (const labels of cases) {
      expect(selectorMatches(sel, labels)).toBe(labelsMatch(parseLabelSelector('app=web,tier in (a,b),!old'), labels));
    }
  });

  it('a missing selector selects nothing, an empty one everything, an unknown operator nothing', () => {
    expect(selectorMatches(undefined, { app: 'web' })).toBe(false);
    expect(selectorMatches({}, { app: 'web' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Like', values: ['web'] }] }, { app: 'web' })).toBe(false);
  });
});

describe('claimObjects', () => {
  it('adopts matching orphans, releases controlled objects that stopped matching, ignores others', () => {
    const store = createClusterStore();
    // Pod admission wants the namespace's ServiceAccount (its controller is not running here).
    store.create('serviceaccounts', 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    const owner = store.create('apps/replicasets', 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    });
    const orphan = store.create('pods', 'default', pod('orphan', { app: 'web' }));
    const strayed = store.create('pods', 'default', pod('strayed', { app: 'other' }, [ownerRefTo(owner)]));
    const stranger = store.create('pods', 'default', pod('stranger', { app: 'other' }));
    const claimed = claimObjects(store, 'pods', owner, owner.spec.selector, [orphan, strayed, stranger]);
    expect(claimed.map((p) => p.metadata.name)).toEqual(['orphan']);
    expect(controllerRef(store.get('pods', 'default', 'orphan'))?.uid).toBe(owner.metadata.uid);
    expect(store.get('pods', 'default', 'strayed').metadata.ownerReferences).toBeUndefined();
    expect(store.get('pods', 'default', 'stranger').metadata.ownerReferences).toBeUndefined();

    // release: false (the Job controller's) keeps what it controls, matching or not.
    const again = store.create('pods', 'default', pod('kept', { app: 'other' }, [ownerRefTo(owner)]));
    expect(claimObjects(store, 'pods', owner, owner.spec.selector, [again], { release: false }).map((p) => p.metadata.name)).toEqual(['kept']);
  });
});
