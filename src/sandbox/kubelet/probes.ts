/**
 * Container probes (K pkg/kubelet/prober/{prober.go,worker.go}; K pkg/probe/{exec,http,tcp}).
 *
 * A worker per probe and container instance, on a ticker of periodSeconds that started when the kubelet took the pod
 * (see ProbeContext.tickerStartMs): its first run is the first tick at least initialDelaySeconds after the container
 * started; the result flips to failure after failureThreshold consecutive failures and to success after successThreshold
 * consecutive successes. Initial results as upstream: readiness starts as failure, liveness as success, startup as
 * unknown (not started). Liveness and readiness are not run until the startup probe succeeded.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { systemClock, type Clock } from '../machinery/clock.js';
import { connectVia, directDial, type Dialer } from '../network/dial.js';
import { lookPath } from './run-as.js';
import { errorMessage } from '../../engine/errors.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, in upstream wording (goes into the Unhealthy event). */
  output: string;
}

export interface ProbeContext {
  host: string;
  /** How TCP and HTTP probes connect (rootless pods are reached through the node namespace); default: directly. */
  dial?: Dialer;
  /** Named container ports -> numbers. */
  ports: Map<string, number>;
  env: Record<string, string>;
  cwd?: string;
  /** Rewrites mount paths inside exec probe commands (see config.ts). */
  rewrite: (s: string) => string;
  /** Isolated pods: turns an exec probe's argv into one that runs inside the container (nsenter), as its user. */
  wrapExec?: (argv: string[]) => string[];
  /** Host-network pods: the container's user (run-as.ts), whom exec probes run as too. */
  user?: { uid: number; gid: number };
  /**
   * When the probe's ticker started (epoch ms): when the kubelet took the pod. Upstream makes a pod's probe workers
   * when the pod is added (K pkg/kubelet/prober/prober_manager.go AddPod), and each ticks from then on for the pod's
   * life, across container restarts; a tick before the container runs probes nothing (worker.go doProbe). So where a
   * tick falls against the moment a server starts listening has nothing to do with when the container started. A
   * ticker started with the container instead probes at once, just before a fast server listens, and then waits
   * almost a whole period. Unset: the container's start.
   */
  tickerStartMs?: number;
  /** The kubelet's clock, for the ticker (default the system clock). */
  clock?: Clock;
}

function resolvePort(port: number | string, ctx: ProbeContext): number {
  if (typeof port === 'number') return port;
  const named = ctx.ports.get(port);
  if (named !== undefined) return named;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new Error(`invalid port ${JSON.stringify(port)}: no container port named so`);
}

function execProbe(cmd: string[], timeoutMs: number, ctx: ProbeContext): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    if (!cmd?.length) return resolve({ ok: false, output: 'exec probe has no command' });
    const argv = cmd.map(ctx.rewrite);
    const run = ctx.wrapExec ? ctx.wrapExec(argv) : argv;
    // Host network: looked up as the container user, as for its command (pod-worker.ts): execvp's EACCES for a PATH
    // directory that user cannot search is "not found".
    if (!ctx.wrapExec && !lookPath(argv[0], ctx.env.PATH ?? '', ctx.cwd ?? process.cwd(), ctx.user)) {
      return resolve({ ok: false, output: `exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH` });
    }
    let out = '';
    let settled = false;
    const child = spawn(run[0], run.slice(1), { env: ctx.env, cwd: ctx.wrapExec ? undefined : ctx.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...ctx.user });
    const finish = (o: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    // Real time (see runProbe).
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      finish({ ok: false, output: `command ${JSON.stringify(cmd.join(' '))} timed out` });
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, output: err.code === 'ENOENT' ? `exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH` : err.message }),
    );
    child.on('close', (code) => finish({ ok: code === 0, output: out.trimEnd() }));
  });
}

function dialError(err: NodeJS.ErrnoException, host: string, port: number): string {
  const what = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.code === 'ETIMEDOUT' ? 'i/o timeout' : err.message;
  return `dial tcp ${host}:${port}: ${what}`;
}

async function tcpProbe(host: string, port: number, timeoutMs: number, dial: Dialer = directDial): Promise<ProbeOutcome> {
  try {
    (await dial(host, port, timeoutMs)).destroy();
    return { ok: true, output: '' };
  } catch (err) {
    return { ok: false, output: dialError(err as NodeJS.ErrnoException, host, port) };
  }
}

function httpProbe(spec: any, port: number, timeoutMs: number, ctx: ProbeContext): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const scheme = String(spec.scheme ?? 'HTTP').toLowerCase();
    const host = spec.host || ctx.host;
    let p = spec.path ?? '/';
    if (!p.startsWith('/')) p = `/${p}`;
    const url = `${scheme}://${host}:${port}${p}`;
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
    for (const h of spec.httpHeaders ?? []) headers[h.name] = h.value;
    const mod = scheme === 'https' ? https : http;
    const via = ctx.dial ? { createConnection: connectVia(ctx.dial, host, port, { secure: scheme === 'https', timeoutMs }) } : {};
    const req = mod.get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false, ...via }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 10 * 1024) body += d;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        // K pkg/probe/http/http.go: 200 <= code < 400 is success.
        if (code >= 200 && code < 400) resolve({ ok: true, output: '' });
        else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, output: `Get "${url}": ${dialError(err, host, port)}` }));
  });
}

export async function runProbe(probe: any, ctx: ProbeContext): Promise<ProbeOutcome> {
  // Real time, not the kubelet's clock: the timeout bounds real work (a process, a connection, a request), which takes
  // real time whatever that clock says.
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execProbe(probe.exec.command, timeoutMs, ctx);
    if (probe.httpGet) return await httpProbe(probe.httpGet, resolvePort(probe.httpGet.port, ctx), timeoutMs, ctx);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || ctx.host, resolvePort(probe.tcpSocket.port, ctx), timeoutMs, ctx.dial);
    if (probe.grpc) return { ok: false, output: 'grpc probes are not supported by the sandbox kubelet' };
    return { ok: false, output: 'probe has no handler' };
  } catch (err) {
    return { ok: false, output: errorMessage(err) };
  }
}

/** The first tick of a ticker (a tick at `tick`, then every `periodSeconds`) at or after `notBefore` (all epoch ms). */
export function tickAtOrAfter(tick: number, periodSeconds: number, notBefore: number): number {
  const periodMs = periodSeconds * 1000;
  return tick >= notBefore ? tick : tick + Math.ceil((notBefore - tick) / periodMs) * periodMs;
}

/** Result as the prober manager keeps it: undefined = unknown. */
export type ProbeState = boolean | undefined;

export class ProbeWorker {
  private readonly clock: Clock;
  /** Cancels the next tick. */
  private cancelTick: (() => void) | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private running = false;
  /** The next tick of the probe's ticker (epoch ms). */
  private nextTick: number;
  result: ProbeState;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: any,
    private readonly ctx: ProbeContext,
    /** Whether the probe may run now (liveness/readiness wait for startup). */
    private readonly gate: () => boolean,
    /** Called when `result` changes, or on every failed run (for the Unhealthy event) with `failedOutput`. */
    private readonly onChange: (worker: ProbeWorker, failedOutput?: string) => void,
    /** Runs one probe (a test gives its own, to see when runs happen). */
    private readonly run: (probe: any, ctx: ProbeContext) => Promise<ProbeOutcome> = runProbe,
  ) {
    this.result = kind === 'readiness' ? false : kind === 'liveness' ? true : undefined;
    this.clock = ctx.clock ?? systemClock;
    const now = this.clock.now();
    // The first tick at least initialDelaySeconds after the container started (upstream's doProbe skips earlier ones).
    this.nextTick = ctx.tickerStartMs ?? now;
    this.cancelTick = this.clock.after(this.untilNextTick(now + (probe.initialDelaySeconds ?? 0) * 1000), () => void this.tick());
  }

  /**
   * Runs the probe now rather than at its next period, as upstream's kubelet does for a readiness probe that has not
   * succeeded yet whenever it syncs the pod's status (K pkg/kubelet/prober/prober_manager.go UpdatePodStatus,
   * worker.go manualTriggerCh): so a pod is ready right after its startup probe passes, not a period later.
   */
  trigger(): void {
    if (this.stopped || this.running) return;
    this.cancelTick?.();
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.gate()) {
      this.running = true;
      const o = await this.run(this.probe, this.ctx).finally(() => (this.running = false));
      if (this.stopped) return;
      const before = this.result;
      if (o.ok) {
        this.failures = 0;
        this.successes++;
        if (this.result !== true && this.successes >= (this.probe.successThreshold ?? 1)) this.result = true;
      } else {
        this.successes = 0;
        this.failures++;
        if (this.result !== false && this.failures >= (this.probe.failureThreshold ?? 3)) this.result = false;
      }
      if (!o.ok) this.onChange(this, o.output || '(no output)');
      else if (before !== this.result) this.onChange(this);
      // A startup probe stops once it succeeded (K pkg/kubelet/prober/worker.go).
      if (this.kind === 'startup' && this.result === true) return;
      // After a liveness/startup failure the container is restarted and gets new workers.
      if (this.kind !== 'readiness' && this.result === false) return;
    }
    if (!this.stopped) this.cancelTick = this.clock.after(this.untilNextTick(), () => void this.tick());
  }

  /**
   * Probes run on a ticker of the probe's period, as upstream's worker loop does (K pkg/kubelet/prober/worker.go: a
   * time.Ticker, ticks dropped when a probe overran them), not a period after the last probe ended: a failed probe
   * that took 0.4 s (a pod still starting) must not push the next one to 1.4 s. A manual trigger leaves the ticker as it is.
   */
  private untilNextTick(notBefore?: number): number {
    const now = this.clock.now();
    // The first run may fall on a tick that is due now; later ones come after the run that just ended.
    this.nextTick = notBefore !== undefined ? tickAtOrAfter(this.nextTick, this.probe.periodSeconds ?? 10, notBefore) : tickAtOrAfter(this.nextTick, this.probe.periodSeconds ?? 10, now + 1);
    return Math.max(0, this.nextTick - now);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
  }
}
