import { describe, expect, it } from 'vitest';
import { qosClass } from '../../../src/sandbox/machinery/qos.js';

const spec = (...resources: unknown[]) => ({ containers: resources.map((r, i) => ({ name: `c${i}`, image: 'busybox', resources: r })) });

describe('qosClass', () => {
  it('BestEffort when no container requests or limits anything', () => {
    expect(qosClass(spec({}, undefined))).toBe('BestEffort');
    expect(qosClass(undefined)).toBe('BestEffort');
  });

  it('Guaranteed when every container limits cpu and memory and requests the same (or nothing)', () => {
    expect(qosClass(spec({ limits: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
    expect(qosClass(spec({ limits: { cpu: 1, memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
  });

  it('Burstable otherwise, init containers included', () => {
    expect(qosClass(spec({ requests: { cpu: '100m' } }))).toBe('Burstable');
    expect(qosClass(spec({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } }))).toBe('Burstable');
    expect(qosClass(spec({ limits: { cpu: '1', memory: '1Gi' } }, {}))).toBe('Burstable');
    expect(qosClass({ ...spec({ limits: { cpu: '1', memory: '1Gi' } }), initContainers: [{ name: 'i', image: 'busybox' }] })).toBe('Burstable');
  });
});
