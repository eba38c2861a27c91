/**
 * The probes of one running container and what their results do, as K pkg/kubelet/prober/prober_manager.go wires
 * them: startup gates liveness and readiness, readiness sets the container's `ready`, a failed liveness or startup
 * probe kills the container so that it restarts. The probe runs themselves are probes.ts.
 */
import type { Clock } from '../machinery/clock.js';
import type { Dialer, PodSandbox } from '../network/index.js';
import type { ContainerInstance, ContainerState } from './container-state.js';
import type { ProcessConfig } from './container-runtime.js';
import { ProbeWorker, type ProbeContext, type ProbeKind } from './probes.js';

/** The pod as the prober sees it. */
export interface ProberHost {
  /** Where network probes connect: the pod IP. */
  host: string;
  /** When the kubelet took the pod (ProbeContext.tickerStartMs). */
  tickerStartMs: number;
  /** Isolated: exec probes run inside the container's namespaces. */
  sandbox: PodSandbox | undefined;
  /** How TCP and HTTP probes connect (network/index.ts Network.dial); unset: directly. */
  dial?: Dialer;
  /** Records an event on the container. */
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Started or ready changed: sync the pod's status. */
  requeue(): void;
  /** Kills the container after a failed liveness or startup probe (`graceSeconds`: the probe's own grace period). */
  kill(inst: ContainerInstance, graceSeconds: number | undefined): void;
  /** The kubelet's clock, for the probes' tickers. */
  clock: Clock;
}

const LABEL: Record<ProbeKind, string> = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' };

/** Starts the probes of `c`'s instance `inst`, which runs as `process`; without probes it is started and ready. */
export function startProbes(c: ContainerState, inst: ContainerInstance, process: Pick<ProcessConfig, 'env' | 'cwd' | 'rewrite'>, host: ProberHost): void {
  const spec = c.spec;
  const { env, cwd } = process;
  const ports = new Map<string, number>();
  for (const p of spec.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
  const sb = host.sandbox;
  const ctx: ProbeContext = {
    host: host.host,
    tickerStartMs: host.tickerStartMs,
    clock: host.clock,
    ...(host.dial ? { dial: host.dial } : {}),
    ports,
    env,
    cwd,
    rewrite: process.rewrite,
    // Exec probes run inside the container's namespaces (its mounts, the pod's network).
    wrapExec: sb && inst.pid ? (argv) => sb.execArgv(inst.pid!, argv, cwd, inst.user) : undefined,
    user: sb ? undefined : inst.user,
  };
  const alive = (): boolean => c.current === inst && !inst.done && !inst.killing;
  if (!spec.startupProbe) c.started = true;
  if (!spec.readinessProbe && c.started) c.ready = true;
  const onChange = (w: ProbeWorker, failed?: string): void => {
    if (!alive()) return;
    if (failed !== undefined) host.event('Warning', 'Unhealthy', `${LABEL[w.kind]} probe failed: ${failed}`);
    if (w.kind === 'startup' && w.result === true && !c.started) {
      c.started = true;
      if (!spec.readinessProbe) c.ready = true;
      // The status sync this causes upstream probes readiness at once (ProbeWorker.trigger).
      else c.probes.find((p) => p.kind === 'readiness')?.trigger();
      host.requeue();
    } else if (w.kind === 'readiness' && c.ready !== (w.result === true)) {
      c.ready = w.result === true;
      host.requeue();
    } else if ((w.kind === 'liveness' || w.kind === 'startup') && w.result === false) {
      host.event('Normal', 'Killing', `Container ${spec.name} failed ${w.kind} probe, will be restarted`);
      host.kill(inst, (w.kind === 'liveness' ? spec.livenessProbe : spec.startupProbe)?.terminationGracePeriodSeconds);
    }
  };
  if (spec.startupProbe) c.probes.push(new ProbeWorker('startup', spec.startupProbe, ctx, alive, onChange));
  if (spec.readinessProbe) c.probes.push(new ProbeWorker('readiness', spec.readinessProbe, ctx, () => alive() && c.started, onChange));
  if (spec.livenessProbe) c.probes.push(new ProbeWorker('liveness', spec.livenessProbe, ctx, () => alive() && c.started, onChange));
}
