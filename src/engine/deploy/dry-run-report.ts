/**
 * `checkOnServer`'s result as plain text, one renderer for the CLI (which neutralises each line for CI runners) and
 * the action's summary (which escapes it): the verdict, one line per object, and the diffs. The server's messages and
 * the objects' fields are untrusted text: callers escape them for where they print.
 */
import type { CheckOutcome, ObjectCheck, ServerCheckResult } from './dry-run.js';

const OUTCOME_TEXT: Record<CheckOutcome, string> = {
  refused: 'refused',
  create: 'to create',
  update: 'to update',
  unchanged: 'unchanged',
  unchecked: 'not checked',
};

/** `2 refused, 5 to create, 1 to update, 3 unchanged`: the outcomes that occur, refusals first. */
export function countOutcomes(result: ServerCheckResult): string {
  const order: CheckOutcome[] = ['refused', 'create', 'update', 'unchanged', 'unchecked'];
  return order
    .map((o) => [o, result.objects.filter((x) => x.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${OUTCOME_TEXT[o]}`)
    .join(', ');
}

/** One line: the verdict of the dry run. */
export function verdictLine(result: ServerCheckResult): string {
  const head = result.ok
    ? `the API server accepts every object it checked in namespace ${result.namespace}`
    : `the API server refuses ${result.refused.length} object${result.refused.length === 1 ? '' : 's'} in namespace ${result.namespace}`;
  const unchecked =
    result.unchecked.length === 0
      ? ''
      : result.namespaceExists
        ? `; ${result.unchecked.length} not checked`
        : `; ${result.unchecked.length} not checked: namespace ${result.namespace} does not exist yet, and the API server checks the objects in it only once it does (a deploy creates it first)`;
  return `${head} (${countOutcomes(result)})${unchecked}`;
}

/** One line for an object: `refused    Deployment ml/api: <server message>`. */
export function objectLine(o: ObjectCheck): string {
  const why = o.message !== undefined ? `: ${o.message}` : '';
  const job = o.kind === 'Job' ? (o.comparedWith !== undefined ? ` (new each run; compared with ${o.comparedWith})` : ' (new each run)') : '';
  return `${OUTCOME_TEXT[o.outcome].padEnd(12)}${o.object}${job}${why}`;
}

/** The object lines, refusals first, then warnings the server gave (`warning: Job ml/x: ...`). */
export function renderObjectLines(result: ServerCheckResult): string[] {
  const refusedFirst = [...result.refused, ...result.objects.filter((o) => o.outcome !== 'refused')];
  const lines = refusedFirst.map(objectLine);
  for (const o of result.objects) for (const w of o.warnings) lines.push(`warning: ${o.object}: ${w}`);
  return lines;
}

/**
 * The diffs of every object that changes (or is created, or could not be checked and is shown as planned), in the
 * deploy's order, as kubectl diff prints them; '' when nothing changes.
 */
export function renderDiff(result: ServerCheckResult): string {
  return result.objects
    .filter((o) => o.diff !== '')
    .map((o) => (o.diff.endsWith('\n') ? o.diff : `${o.diff}\n`))
    .join('');
}
