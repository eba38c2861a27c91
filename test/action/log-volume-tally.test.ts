/** LogLineTally (test/support/log-volume.ts), which the log-volume test and bench judge by: every kind of damage counts. */
import { expect, it } from 'vitest';
import { BAR_EVERY, LogLineTally } from '../support/log-volume.js';

const PAD = 'x'.repeat(30);
const line = (i: number) => `[s] ${i % BAR_EVERY === BAR_EVERY - 1 ? `P${String(i).padStart(8, '0')} 100%` : `L${String(i).padStart(8, '0')} ${PAD}`}`;

it('counts each numbered line once, and a line cut anywhere (even within its number) as wrong, not as an unrelated line', () => {
  const t = new LogLineTally('s', 4);
  for (const l of [line(0), line(1), line(1), '[s] L0000000', '[s] P', line(3).slice(0, -3), '[s] pip install done', '[other] L00000002 x', '[s] END 4']) t.add(l);
  expect(t.result()).toEqual({ expected: 4, once: 1, missing: 2, doubled: 1, wrong: 3, ended: true });
  expect(t.anomalies()).toEqual([
    [1, 1, 2],
    [2, 3, 0],
  ]);
});
