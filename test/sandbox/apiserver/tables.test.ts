import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanDuration } from '../../../src/sandbox/apiserver/tables.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { anyJson, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { nodeName: 'sandbox', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } } as KubeObject);
  const p = h.store.get('pods', 'default', 'p1');
  h.store.update(
    'pods',
    'default',
    'p1',
    {
      ...p,
      status: {
        phase: 'Running',
        podIP: '127.0.0.1',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: { running: { startedAt: p.metadata.creationTimestamp } } },
          { name: 'b', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: new Date(Date.now() - 65_000).toISOString() } } },
        ],
      },
    },
    { subresource: 'status' },
  );
});
afterAll(() => h.close());

describe('server-side printing (Tables)', () => {
  it('kubectl get pods prints the upstream pod columns', async () => {
    const r = await h.kubectl(['get', 'pods', '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    const [head, row] = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(head).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(row.slice(0, 3)).toEqual(['p1', '1/2', 'CrashLoopBackOff']);
    // The restart was 65 s before the pod was written; kubectl prints the age when it runs, a little later.
    const [, restarts, ago] = row[3].match(/^(\d+) \((\d+)s ago\)$/) ?? [];
    expect([restarts, Number(ago) >= 65]).toEqual(['3', true]);
    expect(row.slice(5, 7)).toEqual(['127.0.0.1', 'sandbox']);
  });

  it('answers Table JSON only when asked, with PartialObjectMetadata rows by default', async () => {
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/services`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const t = await res.json().then(anyJson);
    expect(t.kind).toBe('Table');
    expect(t.apiVersion).toBe('meta.k8s.io/v1');
    expect(t.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
    expect(t.rows[0].cells.slice(0, 5)).toEqual(['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
    expect(t.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'kubernetes' } });
    const plain = await (await h.fetch(`${h.url}/api/v1/namespaces/default/services`, { headers: { accept: 'application/json' } })).json().then(anyJson);
    expect(plain.kind).toBe('ServiceList');
  });

  it('HumanDuration', () => {
    expect([5, 119, 200, 600, 3 * 3600, 5 * 3600 + 7 * 60, 30 * 3600, 76 * 3600, 400 * 86400].map((s) => humanDuration(s * 1000))).toEqual([
      '5s',
      '119s',
      '3m20s',
      '10m',
      '3h',
      '5h7m',
      '30h',
      '3d4h',
      '400d',
    ]);
  });
});
