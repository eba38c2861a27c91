/**
 * Fault injection for the sandbox API server: reproducible (seeded) latency, 500s, 429s, cut watches and
 * 410-on-resume, so clients' retry and re-watch paths can be exercised deterministically.
 */

export interface FaultOptions {
  /** PRNG seed; the same seed and the same request sequence give the same faults. Default 1. */
  seed?: number;
  /** Added latency per request in ms: a fixed value or a [min, max] range drawn from the PRNG. */
  latencyMs?: number | [number, number];
  /** Share (0..1) of requests answered 500 InternalError. */
  errorRate?: number;
  /** Share (0..1) of requests answered 429 TooManyRequests with Retry-After. */
  throttleRate?: number;
  /** Retry-After seconds of injected 429s (default 1). */
  retryAfterSeconds?: number;
  /** Watches are closed by the server after this many seconds (clients must resume). */
  watchCutAfterSeconds?: number;
  /** Share (0..1, `true` = 1) of watches resuming from a non-zero resourceVersion that get a 410 Expired ERROR event. */
  expireOnResume?: boolean | number;
  /** Also inject into health checks, /version, discovery and /openapi (default false). */
  includeDiscovery?: boolean;
  /** Only requests whose path matches are affected (default: all API requests). */
  pathPattern?: RegExp;
  /** Only watch requests (`?watch=true`) are affected: a watch can be slowed without slowing the list before it. */
  watchOnly?: boolean;
  /**
   * Also affect requests authenticated by a client certificate: the node agent's (default true). False keeps the
   * sequence to the token clients' requests, so a seed gives the same faults whatever the node's timing.
   */
  certClients?: boolean;
}

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'error'; latencyMs: number }
  | { kind: 'throttle'; latencyMs: number; retryAfterSeconds: number };

/** mulberry32: small, fast, good enough for reproducible test faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private readonly rand: () => number;
  /** Every decision taken, in order (tests compare runs). */
  readonly log: string[] = [];

  constructor(readonly opts: FaultOptions) {
    this.rand = seededRandom(opts.seed ?? 1);
  }

  applies(path: string, isDiscovery: boolean, isWatch = false): boolean {
    if (isDiscovery && !this.opts.includeDiscovery) return false;
    if (this.opts.watchOnly && !isWatch) return false;
    if (this.opts.pathPattern && !this.opts.pathPattern.test(path)) return false;
    return true;
  }

  /** Draws the fault for one request (always the same number of draws, so sequences stay aligned). */
  decide(label: string): FaultDecision {
    const l = this.opts.latencyMs;
    const rl = this.rand();
    const latencyMs = l === undefined ? 0 : typeof l === 'number' ? l : Math.round(l[0] + rl * (l[1] - l[0]));
    const r = this.rand();
    const err = this.opts.errorRate ?? 0;
    const thr = this.opts.throttleRate ?? 0;
    let d: FaultDecision;
    if (r < err) d = { kind: 'error', latencyMs };
    else if (r < err + thr) d = { kind: 'throttle', latencyMs, retryAfterSeconds: this.opts.retryAfterSeconds ?? 1 };
    else d = { kind: 'none', latencyMs };
    this.log.push(`${label} ${d.kind} ${latencyMs}`);
    return d;
  }

  /** Whether a watch resuming from a non-zero resourceVersion gets 410. */
  expireResume(label: string): boolean {
    const e = this.opts.expireOnResume;
    if (!e) return false;
    const rate = e === true ? 1 : e;
    const hit = this.rand() < rate;
    this.log.push(`${label} ${hit ? 'expire' : 'resume'}`);
    return hit;
  }
}
