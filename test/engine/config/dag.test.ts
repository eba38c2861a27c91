import { describe, expect, it } from 'vitest';

import { checkDagStages, parseDag } from '../../../src/engine/config/dag.js';

describe('parseDag', () => {
  it.each([
    ['a', [['a']]],
    ['a >> b', [['a'], ['b']]],
    ['stage_1 >> stage_2 >> stage_3, stage_4 >> stage_5', [['stage_1'], ['stage_2'], ['stage_3', 'stage_4'], ['stage_5']]],
    [' a,b\n  >>  c ', [['a', 'b'], ['c']]],
  ])('splits %j into steps of concurrent stages', (text, steps) => {
    expect(parseDag(text)).toEqual({ steps, problems: [] });
  });

  it.each([
    ['', ['DAG must name at least one stage (expected stage names separated by "," within a step and ">>" between steps), got ""']],
    ['a >> , b', ['DAG step 2 has an empty stage name (expected stage names separated by "," within a step and ">>" between steps), got "a >> , b"']],
    [
      'a,,b >> >> c',
      [
        'DAG step 1 has an empty stage name (expected stage names separated by "," within a step and ">>" between steps), got "a,,b >> >> c"',
        'DAG step 2 has an empty stage name (expected stage names separated by "," within a step and ">>" between steps), got "a,,b >> >> c"',
      ],
    ],
    ['a > b', ['DAG step 1 has "a>b", which is not a stage name (expected stage names separated by "," within a step and ">>" between steps)']],
  ])('reports the malformed DAG %j with its step number', (text, problems) => {
    expect(parseDag(text).problems).toEqual(problems);
  });
});

describe('checkDagStages', () => {
  const known = ['train', 'serve'];
  const unknown = (name: string, hint: string) => `no stage "${name}"${hint}`;

  it('accepts known stages listed once', () => {
    expect(checkDagStages([['train'], ['serve']], (s) => known.includes(s), known, unknown)).toEqual([]);
  });

  it('reports unknown stages once, with the nearest known name or the list of known names', () => {
    expect(checkDagStages([['trian', 'monitor'], ['trian']], (s) => known.includes(s), known, unknown)).toEqual([
      'no stage "trian"; did you mean "train"?',
      'no stage "monitor" (known stages: "serve", "train")',
      'DAG lists stage "trian" twice, in step 1 and again in step 2; a stage can run only once',
    ]);
  });

  it('reports a stage listed twice in the same step', () => {
    expect(checkDagStages([['train', 'train']], () => true, known, unknown)).toEqual(['DAG lists stage "train" twice in step 1; a stage can run only once']);
  });
});
