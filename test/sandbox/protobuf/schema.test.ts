import { describe, expect, it } from 'vitest';
import { MESSAGES, TOP_LEVEL_MESSAGES, messageSpec, parseField } from '../../../src/sandbox/apiserver/protobuf/schema.js';

describe('protobuf schema table', () => {
  it('every row parses, refers to known types, and numbers and JSON names are unique per message', () => {
    for (const name of Object.keys(MESSAGES)) {
      const spec = messageSpec(name)!;
      expect(spec.byNumber.size, name).toBe(spec.fields.length);
      const names = spec.fields.filter((f) => !f.inline).map((f) => f.json);
      expect(new Set(names).size, name).toBe(names.length);
      for (const f of spec.fields) {
        if (f.kind === 'message') expect(messageSpec(f.type), `${name}.${f.json}`).toBeDefined();
        if (f.inline) expect(f.kind === 'message' && !f.repeated && !f.map && f.json === '-', `${name} field ${f.num}`).toBe(true);
      }
    }
  });

  it('every message is reachable from a top-level kind (no dead rows)', () => {
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      for (const f of messageSpec(n)!.fields) if (f.kind === 'message') visit(f.type);
    };
    for (const n of TOP_LEVEL_MESSAGES) visit(n);
    expect([...seen].sort()).toEqual(Object.keys(MESSAGES).sort());
  });

  it('spot checks against upstream generated.proto and Go struct tags', () => {
    const field = (m: string, num: number) => messageSpec(m)!.byNumber.get(num);
    expect(field('core.v1.PodSpec', 2)).toMatchObject({ json: 'containers', type: 'core.v1.Container', repeated: true, omitEmpty: false });
    expect(field('core.v1.Container', 2)).toMatchObject({ json: 'image', type: 'string', omitEmpty: true });
    expect(field('meta.v1.ObjectMeta', 11)).toMatchObject({ json: 'labels', type: 'string', map: true });
    expect(field('meta.v1.ObjectMeta', 8)).toMatchObject({ json: 'creationTimestamp', kind: 'special', type: 'Time', omitZero: true });
    expect(field('core.v1.Secret', 2)).toMatchObject({ json: 'data', type: 'bytes', map: true });
    expect(field('apps.v1.DeploymentSpec', 1)).toMatchObject({ json: 'replicas', type: 'int32', pointer: true });
    expect(field('core.v1.Volume', 2)).toMatchObject({ type: 'core.v1.VolumeSource', inline: true });
    expect(field('core.v1.ServicePort', 4)).toMatchObject({ json: 'targetPort', type: 'IntOrString' });
    expect(field('coordination.v1.LeaseSpec', 4)).toMatchObject({ json: 'renewTime', type: 'MicroTime', pointer: true });
    expect(field('autoscaling.v1.ScaleSpec', 1)).toMatchObject({ json: 'replicas', type: 'int32', pointer: false, omitEmpty: true });
    expect(field('meta.v1.DeleteOptions', 4)).toMatchObject({ json: 'propagationPolicy', pointer: true });
  });

  it('rejects malformed rows', () => {
    expect(() => parseField('1 name')).toThrow(/malformed/);
    expect(() => parseField('1 name string q')).toThrow(/malformed/);
    expect(() => parseField('1 name core.v1.Nope')).toThrow(/unknown type core\.v1\.Nope/);
    expect(parseField('3 x []map<Quantity> *e')).toMatchObject({ repeated: true, map: true, kind: 'special', pointer: true, omitEmpty: true });
  });
});
