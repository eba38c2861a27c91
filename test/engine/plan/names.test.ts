import { describe, expect, it } from 'vitest';
import { isDns1035Label, isDns1123Label, isLabelValue } from '../../../src/engine/kube/names.js';
import { shorten, stageObjectName, toDnsLabel, toDnsName, withSuffix } from '../../../src/engine/plan/index.js';

describe('toDnsName', () => {
  it.each([
    { raw: 'stage_1_train_model', expected: 'stage-1-train-model' },
    { raw: 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service', expected: 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service' },
    { raw: '  My Stage!! (v2) ', expected: 'my-stage-v2' },
    { raw: 'a.b.c', expected: 'a-b-c' },
    { raw: '_leading_and_trailing_', expected: 'leading-and-trailing' },
    { raw: '1-train', expected: 'bw-1-train' },
  ])('makes $raw into $expected', ({ raw, expected }) => {
    expect(toDnsName(raw)).toBe(expected);
    expect(isDns1035Label(toDnsName(raw))).toBe(true);
  });

  it('gives a hashed name to text with no usable character', () => {
    expect(toDnsName('___')).toMatch(/^bw-[0-9a-f]{8}$/);
  });

  it('shortens past 63 characters to a stable name ending in a hash of the whole name', () => {
    const a = `${'x'.repeat(60)}-first`;
    const b = `${'x'.repeat(60)}-second`;
    expect(toDnsName(a)).toHaveLength(63);
    expect(toDnsName(a)).toBe(toDnsName(a));
    expect(toDnsName(a)).not.toBe(toDnsName(b));
    expect(toDnsName(a)).toMatch(/^x{54}-[0-9a-f]{8}$/);
    expect(isLabelValue(toDnsName(a))).toBe(true);
  });

  it('never ends a shortened name with a hyphen before the hash', () => {
    const name = shorten(`${'a'.repeat(53)}--${'b'.repeat(20)}`);
    expect(name).toMatch(/^a{53}-[0-9a-f]{8}$/);
  });
});

describe('toDnsLabel', () => {
  it('keeps a leading digit, which namespaces and label values allow', () => {
    expect(toDnsLabel('2021_Forecast')).toBe('2021-forecast');
    expect(isDns1123Label(toDnsLabel('2021_Forecast'))).toBe(true);
  });

  it('shortens like toDnsName', () => {
    expect(toDnsLabel('9'.repeat(80))).toMatch(/^9{54}-[0-9a-f]{8}$/);
  });
});

describe('stageObjectName', () => {
  it('prefixes INI stages with the project name, as Bodywork 1 did', () => {
    expect(stageObjectName({ format: 'ini', name: 'bodywork-ml-pipeline-project' }, 'stage-1-train-model')).toBe('bodywork-ml-pipeline-project--stage-1-train-model');
  });

  it('prefixes YAML "1.0" stages with the project name, as Bodywork 2 did', () => {
    expect(stageObjectName({ format: 'yaml', schemaVersion: '1.0', name: 'bodywork-test-project' }, 'stage_4')).toBe('bodywork-test-project--stage-4');
  });

  it('uses the stage name alone for YAML "1.1" projects, as Bodywork 3 did', () => {
    expect(stageObjectName({ format: 'yaml', schemaVersion: '1.1', name: 'bodywork-test-project' }, 'stage_4')).toBe('stage-4');
  });
});

describe('withSuffix', () => {
  it('appends a per-run suffix within 63 characters', () => {
    const base = 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service';
    const named = withSuffix(base, 'Run_1234');
    expect(named.length).toBeLessThanOrEqual(63);
    expect(named).toMatch(/^bodywork-ml-pipeline-project--stage-2-deploy-[0-9a-f]{8}-run-1234$/);
    expect(withSuffix(base, 'Run_1234')).toBe(named);
    expect(withSuffix('stage-1', '42')).toBe('stage-1-42');
  });
});

describe('isLabelValue', () => {
  it.each(['', 'a', 'stage_1.v2', 'A-b'])('accepts %j', (v) => expect(isLabelValue(v)).toBe(true));
  it.each(['-a', 'a-', 'a/b', 'x'.repeat(64)])('refuses %j', (v) => expect(isLabelValue(v)).toBe(false));
});
