import { describe, expect, it } from 'vitest';
import { jsonFields, unknownFieldPaths } from '../../../src/sandbox/apiserver/protobuf/fields.js';

describe('unknown field paths from the schema', () => {
  it('inlined structs contribute their fields (volumes, probes, key selectors)', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'vp', labels: { a: 'b' }, creationTimestamp: null },
      spec: {
        selector: { matchLabels: { app: 'vp' } },
        template: {
          metadata: { labels: { app: 'vp' } },
          spec: {
            volumes: [{ name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a', path: 'a' }] } }, { name: 'p', projected: { sources: [{ secret: { name: 's' } }] } }],
            containers: [
              {
                name: 'c',
                image: 'busybox',
                env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } }],
                livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
                readinessProbe: { httpGet: { port: 'http', path: '/' } },
                resources: { limits: { cpu: '1' } },
              },
            ],
          },
        },
        strategy: { rollingUpdate: { maxSurge: '25%' } },
      },
      status: {},
    };
    expect(unknownFieldPaths(deployment, 'apps/v1', 'Deployment')).toEqual([]);
  });

  it('reports misspelt and misplaced fields with their paths', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labelz: {} },
      spec: {
        containers: [{ name: 'c', imagee: 'x', livenessProbe: { handler: { exec: {} } } }],
        volumes: [{ name: 'v', volumeSource: { emptyDir: {} }, configMap: { nam: 'x' } }],
      },
      extra: 1,
    };
    expect(unknownFieldPaths(obj, 'v1', 'Pod')).toEqual([
      'metadata.labelz',
      'spec.containers[0].imagee',
      'spec.containers[0].livenessProbe.handler',
      'spec.volumes[0].volumeSource',
      'spec.volumes[0].configMap.nam',
      'extra',
    ]);
    // apiVersion/kind only at the top; patch directives are not fields
    expect(unknownFieldPaths({ spec: { kind: 'x', $patch: 'replace', template: { $retainKeys: [] } } }, 'apps/v1', 'Deployment')).toEqual(['spec.kind']);
    expect(unknownFieldPaths({ foo: 1 }, 'v1', 'PersistentVolume')).toEqual([]);
  });

  it('jsonFields flattens inline fields', () => {
    expect([...jsonFields('core.v1.Volume').keys()]).toContain('persistentVolumeClaim');
    expect(jsonFields('core.v1.Volume').has('volumeSource')).toBe(false);
    expect([...jsonFields('core.v1.Probe').keys()].slice(0, 4)).toEqual(['exec', 'httpGet', 'tcpSocket', 'grpc']);
  });
});
