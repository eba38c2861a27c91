/**
 * The deploy as pictures, for the job summary and the PR comment (GitHub renders ```mermaid blocks in both): the DAG as
 * a `flowchart LR`, each stage coloured by its outcome, and a `gantt` timeline of when each stage ran.
 *
 * Stage names and anything else from the config or the cluster are untrusted. Node ids are generated (s0, s1, ...), so
 * no name is ever Mermaid syntax; every text is redacted, then written with Mermaid's entity codes (`#60;`) for any
 * character other than letters, digits, space, `.`, `,`, `_` and `-`. So no text can end a label, start a statement or a
 * directive (`%%{init}`), close the markdown fence (no backtick, no newline survives) or become HTML (Mermaid turns the
 * codes into HTML entities, which show as text).
 */
import { formatDuration, type DeployResult, type StageResult, type DeployPlan, type PlannedStage } from '../engine/index.js';
import { redact } from './redact.js';

/** Mermaid refuses diagrams over 50,000 characters (its default `maxTextSize`); stay under it with room to spare. */
export const MAX_DIAGRAM_CHARS = 40_000;
/** More stages than this ran: the timeline shows one bar per step, so it stays readable (200 bars are not). */
export const MAX_GANTT_BARS = 40;
/** Stage-to-stage edges at most; past it, steps meet at a junction node (a+b edges instead of a*b). */
const MAX_EDGES = 300;
/** Characters of one text shown at most (Kubernetes names are at most 63). */
const MAX_TEXT = 64;

/** How a stage ended, as the diagrams colour it. `not-run`: planned but no result (the on-failure stage of a run that did not fail). */
export type Outcome = 'succeeded' | 'failed' | 'rolled-back' | 'cancelled' | 'skipped' | 'not-run';

const OUTCOME_TEXT: Record<Outcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  'rolled-back': 'rolled back',
  cancelled: 'cancelled',
  skipped: 'skipped',
  'not-run': 'not run',
};

/** Class names (no `-`: Mermaid class names are words) and colours, with text colour set so both GitHub themes read them. */
const CLASS: Record<Outcome, { name: string; style: string }> = {
  succeeded: { name: 'succeeded', style: 'fill:#dafbe1,stroke:#1a7f37,color:#0d3317' },
  failed: { name: 'failed', style: 'fill:#ffebe9,stroke:#cf222e,color:#5c0a0f,stroke-width:2px' },
  'rolled-back': { name: 'rolledback', style: 'fill:#fff8c5,stroke:#9a6700,color:#3b2300,stroke-width:2px' },
  cancelled: { name: 'cancelled', style: 'fill:#fff1e5,stroke:#bc4c00,color:#3d1300' },
  skipped: { name: 'skipped', style: 'fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3' },
  'not-run': { name: 'notrun', style: 'fill:#ffffff,stroke:#d0d7de,color:#6e7781,stroke-dasharray:2 2' },
};

/**
 * `text` redacted and written for a Mermaid label or Gantt task: every character but `[A-Za-z0-9 ._,-]` becomes `#<code>;`
 * (Mermaid's entity codes), newlines and other control characters a space. Long texts are cut (with `…`).
 */
export function mermaidText(text: string): string {
  // Mermaid marks entity codes with `ﬂ°°` ... `¶ß` while parsing and turns any such pair it finds in the SVG into
  // `&#` ... `;`, so a name holding them would show an entity of its choosing: an invisible word joiner splits them.
  const flat = redact(text)
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/(\ufb02(?=\u00b0)|\u00b6(?=\u00df))/g, '$1\u2060');
  const chars = [...flat];
  const cut = chars.length > MAX_TEXT ? [...chars.slice(0, MAX_TEXT - 1), '…'] : chars;
  return cut.map((c) => (/^[A-Za-z0-9 ._,-]$/.test(c) ? c : `#${c.codePointAt(0)};`)).join('');
}

interface Node {
  id: string;
  stage: PlannedStage;
  result?: StageResult;
  outcome: Outcome;
}

function outcomeOf(result: StageResult | undefined): Outcome {
  return result ? result.status : 'not-run';
}

function label(n: Node): string {
  const parts = [OUTCOME_TEXT[n.outcome]];
  if (n.result?.durationMs !== undefined && n.result.startedAt !== undefined) parts.push(formatDuration(n.result.durationMs));
  if (n.result && n.result.attempts > 1) parts.push(`${n.result.attempts} attempts`);
  // `<br>` is ours (Mermaid's line break); the name and the rest are escaped.
  return `"${mermaidText(n.stage.stage)}<br>${mermaidText(parts.join(', '))}"`;
}

/**
 * The DAG as a `flowchart LR`: a subgraph per step, edges from every stage of a step to every stage of the next (the
 * next step starts when all of them succeeded), the `run_on_failure` stage apart in its own subgraph with no edges.
 * Undefined when the diagram would be too large for Mermaid.
 */
export function dagFlowchart(plan: DeployPlan, result: DeployResult): string | undefined {
  const byName = new Map(result.stages.map((r) => [r.stage, r]));
  let next = 0;
  const node = (stage: PlannedStage, result: StageResult | undefined): Node => ({ id: `s${next++}`, stage, result, outcome: outcomeOf(result) });
  // A stage's result is its step's (run_on_failure's is step 0: kept apart from a DAG stage of the same name).
  const steps = plan.steps.map((s) => s.stages.map((st) => node(st, byName.get(st.stage)?.step === 0 ? undefined : byName.get(st.stage))));
  const onFailureResult = result.stages.find((r) => r.step === 0);
  const onFailure = plan.onFailure ? node(plan.onFailure, onFailureResult) : undefined;

  const lines = ['flowchart LR'];
  plan.steps.forEach((step, i) => {
    lines.push(`  subgraph step${i}["Step ${step.index}"]`);
    for (const n of steps[i]) lines.push(`    ${n.id}[${label(n)}]`);
    lines.push('  end');
  });
  if (onFailure) {
    lines.push('  subgraph onfailure["Run on failure"]', `    ${onFailure.id}[${label(onFailure)}]`, '  end');
  }
  const pairs = steps.slice(1).map((to, i) => ({ from: steps[i], to }));
  const direct = pairs.reduce((sum, p) => sum + p.from.length * p.to.length, 0) <= MAX_EDGES;
  pairs.forEach(({ from, to }, i) => {
    if (direct || from.length * to.length <= from.length + to.length) {
      for (const a of from) for (const b of to) lines.push(`  ${a.id} --> ${b.id}`);
    } else {
      // All of one step to all of the next, through one point: the same meaning, with a+b edges.
      lines.push(`  j${i}(("all"))`);
      for (const a of from) lines.push(`  ${a.id} --> j${i}`);
      for (const b of to) lines.push(`  j${i} --> ${b.id}`);
    }
  });
  const all = [...steps.flat(), ...(onFailure ? [onFailure] : [])];
  for (const outcome of Object.keys(CLASS) as Outcome[]) {
    const ids = all.filter((n) => n.outcome === outcome).map((n) => n.id);
    if (ids.length === 0) continue;
    // No `;` at the end of a classDef: Mermaid's entity pre-pass would cut it.
    lines.push(`  classDef ${CLASS[outcome].name} ${CLASS[outcome].style}`, `  class ${ids.join(',')} ${CLASS[outcome].name}`);
  }
  const text = lines.join('\n');
  return text.length <= MAX_DIAGRAM_CHARS ? text : undefined;
}

interface Bar {
  section: string;
  order: number;
  name: string;
  tag: string;
  start: number;
  end: number;
}

const GANTT_TAG: Record<StageResult['status'], string> = { succeeded: 'done', failed: 'crit', 'rolled-back': 'crit', cancelled: 'active', skipped: '' };

function sectionOf(step: number): { section: string; order: number } {
  return step === 0 ? { section: 'Run on failure', order: Number.MAX_SAFE_INTEGER } : { section: `Step ${step}`, order: step };
}

/** A Gantt task's text: its first character always a code, so no stage name can read as a keyword (`section`, `click`). */
function taskText(text: string): string {
  const t = mermaidText(text);
  return t.startsWith('#') ? t : `#${t.codePointAt(0)};${t.slice(1)}`;
}

/** Gantt bar colours matching the flowchart's classes: succeeded (done) green, failed (crit) red, cancelled (active) orange. */
const GANTT_COLOURS = {
  doneTaskBkgColor: '#dafbe1',
  doneTaskBorderColor: '#1a7f37',
  critBkgColor: '#ffebe9',
  critBorderColor: '#cf222e',
  activeTaskBkgColor: '#fff1e5',
  activeTaskBorderColor: '#bc4c00',
  // Text in the bars: dark on the pale colours (Mermaid's default is white, for its dark default bars).
  taskTextColor: '#1f2328',
  taskTextLightColor: '#1f2328',
  taskTextDarkColor: '#1f2328',
};

/** Axis ticks at a round interval giving at most about 10 ticks (Mermaid's own choice repeats labels on short runs). */
export function tickInterval(spanMs: number): string {
  const steps: [number, string][] = [
    [1, 'second'], [2, 'second'], [5, 'second'], [10, 'second'], [15, 'second'], [30, 'second'],
    [1, 'minute'], [2, 'minute'], [5, 'minute'], [10, 'minute'], [15, 'minute'], [30, 'minute'],
    [1, 'hour'], [2, 'hour'], [3, 'hour'], [6, 'hour'], [12, 'hour'],
  ];
  const unitMs: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };
  const fit = steps.find(([n, unit]) => spanMs / (n * unitMs[unit]) <= 10);
  return fit ? `${fit[0]}${fit[1]}` : '1day';
}

/**
 * When each stage ran, as a `gantt` (`dateFormat x`: epoch milliseconds, shown as the reader's local time): one bar per
 * stage that ran, a section per step; with more than MAX_GANTT_BARS, one bar per step (`grouped`). Undefined when no
 * stage ran.
 */
export function stageGantt(result: DeployResult): { text: string; grouped: boolean } | undefined {
  const ran = result.stages.filter((s) => s.startedAt !== undefined && s.durationMs !== undefined && Number.isFinite(Date.parse(s.startedAt)));
  if (ran.length === 0) return undefined;
  const grouped = ran.length > MAX_GANTT_BARS;
  let bars: Bar[];
  if (!grouped) {
    bars = ran.map((s) => {
      const start = Date.parse(s.startedAt!);
      return { ...sectionOf(s.step), name: `${s.stage} (${OUTCOME_TEXT[s.status]})`, tag: GANTT_TAG[s.status], start, end: start + s.durationMs! };
    });
  } else {
    const steps = new Map<number, StageResult[]>();
    for (const s of ran) steps.set(s.step, [...(steps.get(s.step) ?? []), s]);
    bars = [...steps].map(([step, stages]) => {
      const bad = stages.filter((s) => s.status !== 'succeeded').length;
      const start = Math.min(...stages.map((s) => Date.parse(s.startedAt!)));
      const end = Math.max(...stages.map((s) => Date.parse(s.startedAt!) + s.durationMs!));
      const tag = stages.some((s) => GANTT_TAG[s.status] === 'crit') ? 'crit' : stages.some((s) => s.status === 'cancelled') ? 'active' : 'done';
      return { ...sectionOf(step), name: `${stages.length} stages${bad > 0 ? `, ${bad} not succeeded` : ''}`, tag, start, end };
    });
  }
  bars.sort((a, b) => a.order - b.order || a.start - b.start);
  const span = Math.max(...bars.map((b) => b.end)) - Math.min(...bars.map((b) => b.start));
  const lines = [
    // Our own fixed directive (no stage text can make one): the bars in the DAG's colours, not grey and bright red.
    `%%{init: ${JSON.stringify({ themeVariables: GANTT_COLOURS })}}%%`,
    'gantt',
    '  title Stage timeline',
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    `  tickInterval ${tickInterval(span)}`,
    '  todayMarker off',
  ];
  let section: string | undefined;
  bars.forEach((b, i) => {
    if (b.section !== section) lines.push(`  section ${(section = b.section)}`);
    // A zero-length bar would give the axis an empty domain.
    lines.push(`  ${taskText(b.name)} : ${b.tag ? `${b.tag}, ` : ''}t${i}, ${b.start}, ${Math.max(b.end, b.start + 1)}`);
  });
  const text = lines.join('\n');
  return text.length <= MAX_DIAGRAM_CHARS ? { text, grouped } : undefined;
}

function fence(source: string): string {
  return `\`\`\`mermaid\n${source}\n\`\`\`\n`;
}

/**
 * Both diagrams as markdown under `heading`-level titles (`###`), for the summary and the PR comment; a step list
 * stands in for a flowchart too large to draw.
 */
export function renderDiagrams(plan: DeployPlan, result: DeployResult, heading = '###'): string {
  const parts: string[] = [];
  const flowchart = dagFlowchart(plan, result);
  parts.push(`${heading} DAG\n`);
  if (flowchart) parts.push(fence(flowchart));
  else parts.push(`The DAG has too many stages to draw: ${plan.steps.length} steps, ${plan.steps.reduce((n, s) => n + s.stages.length, 0)} stages (see the table).\n`);
  const gantt = stageGantt(result);
  if (gantt) {
    parts.push(`${heading} Timeline\n`);
    parts.push(fence(gantt.text));
    if (gantt.grouped) parts.push(`One bar per step: more than ${MAX_GANTT_BARS} stages ran (each stage's duration is in the table).\n`);
  }
  return parts.join('\n');
}
