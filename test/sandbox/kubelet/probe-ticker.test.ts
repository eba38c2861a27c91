/**
 * When a probe runs: on a ticker that started when the kubelet took the pod (upstream's prober manager makes the
 * workers at AddPod), not when the container started. On a FakeClock: the runs' times are the ticker's, not the machine's.
 */
import { describe, expect, it } from 'vitest';
import { ProbeWorker, tickAtOrAfter, type ProbeContext, type ProbeOutcome } from '../../../src/sandbox/kubelet/probes.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('tickAtOrAfter', () => {
  it('is the ticker start itself when that is not before the bound', () => {
    expect(tickAtOrAfter(5_000, 1, 4_000)).toBe(5_000);
    expect(tickAtOrAfter(5_000, 1, 5_000)).toBe(5_000);
  });
  it('is the first later tick otherwise', () => {
    expect(tickAtOrAfter(5_000, 1, 5_001)).toBe(6_000);
    expect(tickAtOrAfter(5_000, 10, 27_000)).toBe(35_000);
    expect(tickAtOrAfter(5_000, 2, 9_000)).toBe(9_000);
  });
});

describe('a probe worker', () => {
  const clock = new FakeClock();
  const T = clock.now();
  /** Fires what is due now, then moves the clock on in 1 ms steps, letting each probe run finish before the next timer. */
  async function advance(ms: number): Promise<void> {
    for (let i = 0; i <= ms; i++) {
      clock.advance(i === 0 ? 0 : 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function worker(probe: object, tickerStartMs: number, runs: number[], outcome: () => ProbeOutcome = () => ({ ok: false, output: 'refused' })): ProbeWorker {
    clock.t = T;
    const ctx: ProbeContext = { host: '127.0.0.1', ports: new Map(), env: {}, rewrite: (s) => s, tickerStartMs, clock };
    const run = async (): Promise<ProbeOutcome> => {
      runs.push(clock.now() - T);
      return outcome();
    };
    return new ProbeWorker('startup', { tcpSocket: { port: 1 }, periodSeconds: 1, failureThreshold: 100, ...probe }, ctx, () => true, () => {}, run);
  }

  it("first runs on the pod's ticker, not at the container's start, then every period", async () => {
    const runs: number[] = [];
    // The kubelet took the pod 700 ms before this container started.
    const w = worker({}, T - 700, runs);
    await advance(2_500);
    w.stop();
    expect(runs).toEqual([300, 1_300, 2_300]);
  });

  it('skips the ticks before initialDelaySeconds has passed', async () => {
    const runs: number[] = [];
    const w = worker({ initialDelaySeconds: 2 }, T - 700, runs);
    await advance(3_500);
    w.stop();
    expect(runs).toEqual([2_300, 3_300]);
  });

  it("keeps the pod's ticker for a restarted container", async () => {
    const runs: number[] = [];
    // A container that restarted 5.15 s after the pod was taken.
    const w = worker({}, T - 5_150, runs);
    await advance(1_000);
    w.stop();
    expect(runs).toEqual([850]);
  });

  it('stops a startup probe once it succeeded', async () => {
    const runs: number[] = [];
    const w = worker({}, T, runs, () => ({ ok: runs.length >= 2, output: '' }));
    await advance(5_000);
    w.stop();
    expect(runs).toEqual([0, 1_000]);
    expect(w.result).toBe(true);
  });
});
