/**
 * The DAG string, as Bodywork wrote it: `>>` separates steps that run in order, `,` separates the
 * stages of one step (which run concurrently); all whitespace is ignored.
 * Example: `stage_1 >> stage_2, stage_3 >> stage_4` is three steps.
 */
import { quoteValue } from './quote.js';
import { nearest } from './suggest.js';

export interface ParsedDag {
  /** Steps in order; empty and malformed names are left out (and reported). */
  steps: string[][];
  /** Messages, without a position: the caller knows where the DAG was written. */
  problems: string[];
}

const EXPECTED = 'expected stage names separated by "," within a step and ">>" between steps';

/** Splits a DAG string into steps and checks its shape (not whether the stages exist). */
export function parseDag(text: string): ParsedDag {
  const compact = text.replace(/\s+/g, '');
  if (compact === '') return { steps: [], problems: [`DAG must name at least one stage (${EXPECTED}), got ""`] };

  const problems: string[] = [];
  const steps = compact.split('>>').map((step, index) => {
    const names = step.split(',');
    if (names.some((name) => name === '')) {
      problems.push(`DAG step ${index + 1} has an empty stage name (${EXPECTED}), got ${quoteValue(text.trim())}`);
    }
    return names.filter((name) => {
      if (name === '') return false;
      if (name.includes('>')) {
        problems.push(`DAG step ${index + 1} has ${quoteValue(name)}, which is not a stage name (${EXPECTED})`);
        return false;
      }
      return true;
    });
  });
  return { steps, problems };
}

/**
 * Checks the DAG's stages against the configured ones: unknown names (with a suggestion from
 * `known`) and names listed more than once. `unknown(name, hint)` phrases the format-specific message.
 */
export function checkDagStages(steps: string[][], isKnown: (name: string) => boolean, known: string[], unknown: (name: string, hint: string) => string): string[] {
  const problems: string[] = [];
  const firstStep = new Map<string, number>();
  const reportedUnknown = new Set<string>();
  steps.forEach((step, index) => {
    for (const name of step) {
      const seen = firstStep.get(name);
      if (seen !== undefined) {
        problems.push(
          seen === index
            ? `DAG lists stage ${quoteValue(name)} twice in step ${index + 1}; a stage can run only once`
            : `DAG lists stage ${quoteValue(name)} twice, in step ${seen + 1} and again in step ${index + 1}; a stage can run only once`,
        );
        continue;
      }
      firstStep.set(name, index);
      if (!isKnown(name) && !reportedUnknown.has(name)) {
        reportedUnknown.add(name);
        problems.push(unknown(name, suggestionHint(name, known)));
      }
    }
  });
  return problems;
}

/** `; did you mean "x"?` for a near miss, else the list of known names, else nothing. */
export function suggestionHint(name: string, known: string[]): string {
  const close = nearest(name, known);
  if (close !== undefined) return `; did you mean ${quoteValue(close)}?`;
  if (known.length > 0) return ` (known stages: ${[...known].sort().map((k) => `${quoteValue(k)}`).join(', ')})`;
  return '';
}
