/** Internal: the list every loader adds problems to, so all of them are reported at once. */
import { quoteValue } from './quote.js';
import type { ConfigProblem, Severity } from './problems.js';
import type { ProjectSpec, SourceRef } from './spec.js';
import { KUBERNETES_NAME_EXPECTED } from './rules.js';
import { hasNameCharacters, stageObjectName } from '../plan/names.js';

export class ProblemList {
  readonly items: ConfigProblem[] = [];

  error(at: SourceRef, message: string): void {
    this.add('error', at, message);
  }

  warning(at: SourceRef, message: string): void {
    this.add('warning', at, message);
  }

  get hasErrors(): boolean {
    return this.items.some((p) => p.severity === 'error');
  }

  private add(severity: Severity, at: SourceRef, message: string): void {
    const problem: ConfigProblem = { severity, file: at.file, message };
    if (at.line !== undefined) problem.line = at.line;
    if (at.line !== undefined && at.column !== undefined) problem.column = at.column;
    this.items.push(problem);
  }
}

/** Number rules of the config keys, so both formats say the same thing. */
export interface NumberRule {
  whole: boolean;
  min: number;
  /** The minimum itself is not allowed (`> min` instead of `>= min`). */
  exclusive?: boolean;
  max?: number;
}

/** The API's int32 fields (Job backoffLimit, Deployment replicas). */
const INT32_MAX = 2_147_483_647;

export const NUMBER_RULES = {
  // Requests are kept to whole millicores: below 1m the request would be dropped. No node has a million cores.
  cpuRequest: { whole: false, min: 0.001, max: 1_000_000 },
  // The request in bytes must fit the API's int64 quantity (9.2e18 bytes).
  memoryRequestMb: { whole: true, min: 1, max: 9_000_000_000_000 },
  retries: { whole: true, min: 0, max: INT32_MAX },
  // The deployer times stages with timers, which hold at most 2^31-1 ms (24.8 days); some grace is added to these.
  seconds: { whole: true, min: 1, max: 2_000_000 },
  // Schema "1.1" max_completion_time_seconds: 0 is no limit on the script, as Bodywork 3 read it.
  scriptSeconds: { whole: true, min: 0, max: 2_000_000 },
  replicas: { whole: true, min: 1, max: INT32_MAX },
  port: { whole: true, min: 1, max: 65535 },
} satisfies Record<string, NumberRule>;

/** "a whole number >= 1", "a number > 0", "a whole number from 1 to 65535". */
export function describeNumberRule(rule: NumberRule): string {
  const kind = rule.whole ? 'a whole number' : 'a number';
  if (rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  return `${kind} ${rule.exclusive ? '>' : '>='} ${rule.min}`;
}

export function satisfiesNumberRule(rule: NumberRule, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (rule.whole && !Number.isInteger(value)) return false;
  if (rule.exclusive ? value <= rule.min : value < rule.min) return false;
  return rule.max === undefined || value <= rule.max;
}

/**
 * Checks that every stage name can become a Kubernetes name and that no two stages get the same one
 * (`stage_1` and `stage-1` would both be `stage-1`), with the names the plan gives them (`stageObjectName`), so
 * what is checked here is what is deployed. `where` says where a stage is named.
 */
export function checkStageNames(
  project: Pick<ProjectSpec, 'format' | 'schemaVersion' | 'name'>,
  names: string[],
  where: (name: string) => SourceRef,
  problems: ProblemList,
): void {
  const byObjectName = new Map<string, string>();
  for (const name of names) {
    if (!hasNameCharacters(name)) {
      problems.error(where(name), `stage name must be ${KUBERNETES_NAME_EXPECTED}, got ${quoteValue(name)}`);
      continue;
    }
    const converted = stageObjectName(project, name);
    const other = byObjectName.get(converted);
    if (other !== undefined) {
      problems.error(where(name), `stages ${quoteValue(other)} and ${quoteValue(name)} would both become the Kubernetes name ${quoteValue(converted)}; rename one of them`);
      continue;
    }
    byObjectName.set(converted, name);
  }
}
