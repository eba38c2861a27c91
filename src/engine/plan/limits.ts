/**
 * Time limits as each Bodywork version meant them (bodywork-behaviour.md §2.3, §2.5, §2.8, §2.11): one home for the
 * per-attempt script limit of batch stages, the pod deadline kept as a backstop, and how a service's startup limit
 * is enforced per format, with the probes that make readiness fast.
 *
 * Batch (MAX_COMPLETION_TIME_SECONDS / max_completion_time_seconds): Bodywork set no pod deadline; v1/v2 waited the
 * limit plus 60/90 s, v3 timed the script alone, after pip, and waited `max(1,retries)*max(60,t)+90`. Here the
 * container's command bounds the script (command.ts), so the limit never covers the image pull, the copy or the
 * install; `activeDeadlineSeconds` on the pod stays only as a generous backstop for an attempt whose set-up hangs.
 * `0` means no script limit (Bodywork 3), and then no backstop either.
 *
 * Services (MAX_STARTUP_TIME_SECONDS / max_startup_time_seconds):
 * - INI (Bodywork 1) and YAML "1.0" (Bodywork 2) had no probes: the value was `minReadySeconds`, and the deploy
 *   waited the limit plus a grace (60/90 s) that also covered the pip install. So here: no startup or liveness
 *   probe, which would count from container start, pip included, and kill a slow starter; the rollout fails (and
 *   rolls back) only when the pods are not ready within the limit plus STARTUP_INSTALL_GRACE_SECONDS per wave.
 * - YAML "1.1" (Bodywork 3) used a TCP startup probe (pip included, as its `bodywork stage` installed first): kept.
 * - Every format gets a TCP readiness probe with a 1 s period (Bodywork had none, so a pod counted as ready before
 *   it listened). The kubelet probes readiness at container start and then every period, and (for "1.1") again as
 *   soon as the startup probe passed, so a server is reported ready within about a period of listening.
 *   minReadySeconds is not used: it would only delay availability by the whole limit.
 */
import type { V1Container } from '@kubernetes/client-node';
import type { ProjectSpec, StageSpec } from '../config/spec.js';

/** Period of every probe of a service: readiness is seen within about this much of the server listening. */
export const PROBE_PERIOD_SECONDS = 1;
/** Seconds between liveness probes (Bodywork 3's `K8S_PROBE_PERIOD_SECONDS`). */
export const LIVENESS_PERIOD_SECONDS = 10;
/** Added to the progress deadline: scheduling and image pulls come before the startup limit counts. */
export const PROGRESS_DEADLINE_GRACE_SECONDS = 60;
/** Bodywork 3's floor under a batch limit when it computed its wait. */
export const MIN_ATTEMPT_BUDGET_SECONDS = 60;
/** Allowance per batch attempt for what precedes the script (image pull, the copy, pip install): the backstop's margin. */
export const SETUP_ALLOWANCE_SECONDS = 600;
/** Added per wave of new service pods where the startup limit does not include the install (INI, "1.0"): Bodywork 2's grace. */
export const STARTUP_INSTALL_GRACE_SECONDS = 90;

/** How a service's startup limit is enforced: a startup probe (YAML "1.1"), or the deploy's wait alone (INI, "1.0"). */
export type StartupCheck = 'probe' | 'wait';

type Format = Pick<ProjectSpec, 'format' | 'schemaVersion'>;

/** The name of a time-limit setting as the project's format spells it. */
export function limitSetting(spec: Pick<ProjectSpec, 'format'>, kind: 'completion' | 'startup'): string {
  const name = kind === 'completion' ? 'max_completion_time_seconds' : 'max_startup_time_seconds';
  return spec.format === 'ini' ? name.toUpperCase() : name;
}

/** A batch stage's per-attempt script limit: its seconds, the setting's name, and the pod's backstop `activeDeadlineSeconds`. */
export interface ScriptLimit {
  seconds: number;
  setting: string;
  deadlineSeconds: number;
}

/** The script limit of a batch stage; undefined for none (0 or unset, or not a batch stage). */
export function scriptLimit(spec: Pick<ProjectSpec, 'format'>, stage: Pick<StageSpec, 'batch'>): ScriptLimit | undefined {
  const t = stage.batch?.maxCompletionTimeSeconds;
  if (t === undefined || !(t > 0)) return undefined;
  return { seconds: t, setting: limitSetting(spec, 'completion'), deadlineSeconds: Math.max(MIN_ATTEMPT_BUDGET_SECONDS, t) + SETUP_ALLOWANCE_SECONDS };
}

/** How the project's format enforced MAX_STARTUP_TIME_SECONDS: Bodywork 3 ("1.1") with a probe, 1 and 2 by waiting. */
export function startupCheck(spec: Format): StartupCheck {
  return spec.format === 'yaml' && spec.schemaVersion !== '1.0' ? 'probe' : 'wait';
}

/** Seconds the deploy adds to the startup limit per wave of new pods: the install's allowance where the limit excludes it. */
export function startupGraceSeconds(check: StartupCheck): number {
  return check === 'wait' ? STARTUP_INSTALL_GRACE_SECONDS : 0;
}

/** The Deployment's `progressDeadlineSeconds`: past the deploy's own wait for one wave, so the wait decides. */
export function progressDeadlineSeconds(check: StartupCheck, startupSeconds: number): number {
  return startupSeconds + startupGraceSeconds(check) + PROGRESS_DEADLINE_GRACE_SECONDS;
}

/** The probes of a service container listening on `port` (see the file comment for the choice). */
export function serviceProbes(check: StartupCheck, port: number, startupSeconds: number): Pick<V1Container, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  const tcp = { tcpSocket: { port } };
  const readinessProbe = { ...tcp, periodSeconds: PROBE_PERIOD_SECONDS, failureThreshold: 3 };
  if (check === 'wait') return { readinessProbe };
  return {
    // The server has MAX_STARTUP_TIME_SECONDS from container start (pip included, as Bodywork 3) before the kubelet restarts it.
    startupProbe: { ...tcp, periodSeconds: PROBE_PERIOD_SECONDS, failureThreshold: Math.max(1, Math.ceil(startupSeconds / PROBE_PERIOD_SECONDS)) },
    readinessProbe,
    livenessProbe: { ...tcp, periodSeconds: LIVENESS_PERIOD_SECONDS, failureThreshold: 3 },
  };
}
