/**
 * The DAG flowchart and the stage timeline: what the text says (ids generated, text escaped, edges as the DAG means),
 * and, through a real Mermaid in a real Chromium, that both diagrams of the summary and the PR comment parse and show
 * every stage, hostile names included, with nothing turned into HTML.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDeploySummary, renderPreviewComment } from '../../src/action/deploy-summary.js';
import { dagFlowchart, MAX_GANTT_BARS, mermaidText, stageGantt, tickInterval } from '../../src/action/mermaid.js';
import { addSecret, clearSecrets } from '../../src/action/redact.js';
import type { DeployResult, StageResult } from '../../src/engine/deploy/types.js';
import type { DeployPlan } from '../../src/engine/plan/index.js';
import { chromiumNote, findChromium, launch } from '../support/chromium.js';
import { renderAll, type Rendered } from './support/mermaid-browser.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A plan of `steps` (stage names per step), as much of it as the summary reads. */
function planOf(steps: string[][], onFailure?: string): DeployPlan {
  return {
    project: 'p',
    namespace: 'ns',
    image: 'img:1',
    labels: {},
    setup: [],
    steps: steps.map((names, i) => ({ index: i + 1, stages: names.map((stage) => ({ stage, type: 'batch' })) })),
    ...(onFailure !== undefined ? { onFailure: { stage: onFailure, type: 'batch' } } : {}),
  } as unknown as DeployPlan;
}

function ran(stage: string, step: number, status: StageResult['status'], offsetMs: number, durationMs: number): StageResult {
  return { stage, type: 'batch', step, status, attempts: 1, startedAt: new Date(T0 + offsetMs).toISOString(), durationMs, ...(status !== 'succeeded' ? { reason: `${stage} <b>broke</b>` } : {}) };
}

function resultOf(stages: StageResult[], status: DeployResult['status'] = 'failure'): DeployResult {
  return { project: 'p', namespace: 'ns', status, stages, startedAt: new Date(T0).toISOString(), durationMs: 60_000 };
}

/** The sources of the ```mermaid blocks in a markdown text. */
function fences(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);
}

/** Names no stage config allows (they must be Kubernetes names), used as the worst a label could hold. */
const HOSTILE = [
  'say "hi" & \'bye\'',
  '</script><img src=x onerror=alert(1)>',
  'tick ` ``` fence',
  'a --> b -.- c ==> d',
  '%%{init: {"theme":"dark"}}%% #quot; #35;',
  'section x: y',
  'click s0 call alert(1)',
  '[sq] (par) {br} |pipe| ;semi <lt> >gt',
  '2026-11-24 date-like',
  'uni ü 🚀 ﬂ°°60¶ß',
];
const ON_FAILURE = 'notify </pre> `x`';

/** Step 1: two hostile stages that succeeded; step 2: one failed, others rolled back / cancelled; step 3: skipped. */
function hostile(): { plan: DeployPlan; result: DeployResult } {
  const steps = [HOSTILE.slice(0, 2), HOSTILE.slice(2, 6), HOSTILE.slice(6)];
  const plan = planOf(steps, ON_FAILURE);
  const statuses: StageResult['status'][] = ['failed', 'rolled-back', 'cancelled', 'succeeded'];
  const stages: StageResult[] = [
    ...steps[0].map((s, i) => ran(s, 1, 'succeeded', i * 1000, 5000)),
    ...steps[1].map((s, i) => ran(s, 2, statuses[i], 6000 + i * 500, 3000 + i * 1000)),
    ...steps[2].map((stage): StageResult => ({ stage, type: 'batch', step: 3, status: 'skipped', attempts: 0, reason: 'not run: an earlier step failed' })),
    ran(ON_FAILURE, 0, 'succeeded', 12_000, 2000),
  ];
  return { plan, result: resultOf(stages) };
}

/** 200 stages: 20 steps of 10, all run. */
function large(): { plan: DeployPlan; result: DeployResult } {
  const steps = Array.from({ length: 20 }, (_, s) => Array.from({ length: 10 }, (_, i) => `stage-${s + 1}-${i + 1}`));
  const plan = planOf(steps);
  const stages = steps.flatMap((names, s) => names.map((n, i) => ran(n, s + 1, 'succeeded', s * 10_000 + i * 100, 5000 + i * 300)));
  return { plan, result: resultOf(stages, 'success') };
}

describe('the Mermaid text', () => {
  it('writes untrusted text with entity codes only: nothing that ends a label, a fence or a line, or becomes HTML', () => {
    for (const name of [...HOSTILE, 'line\nbreak\r\u2028x']) {
      const t = mermaidText(name);
      expect(t, name).toMatch(/^[A-Za-z0-9 ._,#;-]*$/);
    }
    expect(mermaidText('a"b')).toBe('a#34;b');
    expect(mermaidText('line\nbreak')).toBe('line break');
    addSecret('hunter2');
    try {
      expect(mermaidText('db-hunter2')).toBe('db-#42;#42;#42;');
    } finally {
      clearSecrets();
    }
  });

  it('draws the DAG with generated ids, every stage of a step to every stage of the next, the on-failure stage apart', () => {
    const { plan, result } = hostile();
    const text = dagFlowchart(plan, result)!;
    expect(text.split('\n')[0]).toBe('flowchart LR');
    // Step 1 (s0, s1) to step 2 (s2..s5), step 2 to step 3 (s6..s9); s10 (on failure) has no edge.
    const edges = text.split('\n').filter((l) => l.includes('-->')).map((l) => l.trim());
    expect(edges).toHaveLength(2 * 4 + 4 * 4);
    expect(edges).toContain('s1 --> s5');
    expect(edges).toContain('s5 --> s9');
    expect(text).not.toMatch(/s10 -->|--> s10/);
    expect(text).toContain('subgraph onfailure["Run on failure"]');
    expect(text).toContain('class s0,s1,s5,s10 succeeded');
    expect(text).toContain('class s2 failed');
    expect(text).toContain('class s3 rolledback');
    expect(text).toContain('class s4 cancelled');
    expect(text).toContain('class s6,s7,s8,s9 skipped');
    // The on-failure stage of a run that did not fail: planned, not run.
    const quiet = dagFlowchart(planOf([['a']], 'cleanup'), resultOf([ran('a', 1, 'succeeded', 0, 1000)], 'success'))!;
    expect(quiet).toContain('class s1 notrun');
  });

  it('draws one timeline bar per stage that ran, a section per step, and one bar per step past the cap', () => {
    const { result } = hostile();
    const g = stageGantt(result)!;
    expect(g.grouped).toBe(false);
    expect(g.text).toContain('dateFormat x');
    expect(g.text.match(/^ {2}section /gm)).toEqual(['  section ', '  section ', '  section ']);
    expect(g.text).toContain('section Run on failure');
    // Skipped stages did not run: 2 + 4 + the on-failure stage.
    expect(g.text.split('\n').filter((l) => / : .*t\d+, \d+, \d+$/.test(l))).toHaveLength(7);

    const big = large();
    const grouped = stageGantt(big.result)!;
    expect(big.result.stages.length).toBeGreaterThan(MAX_GANTT_BARS);
    expect(grouped.grouped).toBe(true);
    expect(grouped.text.split('\n').filter((l) => / : .*t\d+, /.test(l))).toHaveLength(20);
    const summary = renderDeploySummary(big.plan, big.result, { workspace: '.' });
    expect(summary).toContain(`One bar per step: more than ${MAX_GANTT_BARS} stages ran`);
    // 10x10 edges per step boundary would be 1,900: steps meet at junctions instead.
    expect(dagFlowchart(big.plan, big.result)!.split('\n').filter((l) => l.includes('-->')).length).toBeLessThan(500);
  });

  it('puts both diagrams in the summary after the failure, and in the PR comment', () => {
    const { plan, result } = hostile();
    const summary = renderDeploySummary(plan, result, { workspace: '.' });
    const at = (s: string) => summary.indexOf(s);
    expect(at('**Failure:**')).toBeLessThan(at('### DAG'));
    expect(at('### DAG\n\n```mermaid\nflowchart LR')).toBeGreaterThan(0);
    expect(at('### Timeline\n\n```mermaid\n%%{init: ')).toBeGreaterThan(at('### DAG'));
    expect(summary).toContain('}}%%\ngantt\n');
    expect(at('### Stages')).toBeGreaterThan(at('### Timeline'));
    expect(fences(summary)).toHaveLength(2);
    const comment = renderPreviewComment(plan, result, { workspace: '.' });
    expect(fences(comment)).toEqual(fences(summary));
  });
});

describe('the timeline axis', () => {
  it('ticks at a round interval, at most about 10 ticks, whatever the run took', () => {
    expect([800, 8_000, 45_000, 7 * 60_000, 50 * 60_000, 5 * 3_600_000, 3 * 86_400_000, 10 * 86_400_000].map(tickInterval)).toEqual([
      '1second',
      '1second',
      '5second',
      '1minute',
      '5minute',
      '30minute',
      '12hour',
      '1day',
    ]);
  });
});

describe("the README's example", () => {
  it('is what mermaid.ts draws for that run', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const plan = planOf([['stage-1-train-model', 'stage-1b-features'], ['stage-2-deploy-scoring-service']], 'notify');
    const result = resultOf([
      ran('stage-1-train-model', 1, 'succeeded', 1000, 42_000),
      { ...ran('stage-1b-features', 1, 'succeeded', 1200, 30_000), attempts: 2 },
      ran('stage-2-deploy-scoring-service', 2, 'rolled-back', 44_000, 35_000),
      ran('notify', 0, 'succeeded', 80_000, 6000),
    ]);
    expect(fences(readme)).toContain(dagFlowchart(plan, result));
  });
});

const chromium = findChromium();
const why = chromiumNote(chromium);
// Said in the run's output too: a skipped block's title shows only in verbose reports.
if (!chromium) console.warn(`mermaid.test.ts: the rendering tests are ${why}`);

describe.skipIf(!chromium)(`the diagrams rendered by Mermaid ${why}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch(chromium!);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const expectShown = (r: Rendered, kind: string, names: string[]) => {
    expect(r.error).toBeUndefined();
    expect(r.kind).toBe(kind);
    expect(r.injected).toEqual([]);
    // Newlines become spaces; the rest shows exactly as written (with an invisible word joiner in `ﬂ°` and `¶ß`: mermaid.ts).
    const shown = r.text.replace(/\u2060/g, '');
    for (const n of names) expect(shown, n).toContain(n.replace(/\s+/g, ' '));
  };

  it('renders the summary and the PR comment of a run with hostile stage names: both parse, every stage shows', async () => {
    const { plan, result } = hostile();
    const summary = fences(renderDeploySummary(plan, result, { workspace: '.' }));
    const comment = fences(renderPreviewComment(plan, result, { workspace: '.' }));
    const [flow, gantt, flow2, gantt2] = await renderAll(browser, [...summary, ...comment]);
    expectShown(flow, 'flowchart-v2', [...HOSTILE, ON_FAILURE]);
    expect(flow.nodes).toBe(HOSTILE.length + 1);
    // The skipped stages never ran: no bar.
    expectShown(gantt, 'gantt', [...HOSTILE.slice(0, 6), ON_FAILURE]);
    expect(gantt.bars).toBe(7);
    expect(flow2).toEqual(flow);
    expect(gantt2).toEqual(gantt);
  });

  it('renders 200 stages: the flowchart with every stage, the timeline one bar per step', async () => {
    const { plan, result } = large();
    const [flow, gantt] = await renderAll(browser, fences(renderDeploySummary(plan, result, { workspace: '.' })));
    expectShown(flow, 'flowchart-v2', result.stages.map((s) => s.stage));
    expect(flow.nodes).toBeGreaterThanOrEqual(200);
    expectShown(gantt, 'gantt', []);
    expect(gantt.bars).toBe(20);
  });

  it("reports Mermaid's error for a diagram that does not parse (so a pass above means it parsed)", async () => {
    const [bad] = await renderAll(browser, ['flowchart LR\n  s0["a"b"] --> s1']);
    expect(bad.error).toBeDefined();
  });

  it('shows a redacted secret as ***', async () => {
    addSecret('hunter2');
    try {
      const [flow] = await renderAll(browser, [dagFlowchart(planOf([['db-hunter2']]), resultOf([ran('db-hunter2', 1, 'succeeded', 0, 1000)], 'success'))!]);
      expectShown(flow, 'flowchart-v2', ['db-***']);
      expect(flow.text).not.toContain('hunter2');
    } finally {
      clearSecrets();
    }
  });
});
