/**
 * What the object-lifecycle controllers (garbage collector, namespace controller, ServiceAccounts, root-CA publisher)
 * share: their options, how they write, and the pass over the whole cluster that the garbage collector and the
 * namespace controller run instead of working through keys.
 */
import { isStatusError } from '../machinery/errors.js';
import { keyOf } from '../machinery/resource-key.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import type { ClusterStore, KubeObject, ResourceKey, StoreEvent } from '../types.js';
import { errorMessage } from '../../engine/errors.js';
import type { LogFn } from '../machinery/log.js';

export interface LifecycleControllerOptions {
  clock?: Clock;
  /** Delay before a pass (or a re-creation) runs after a change that asks for one (ms, default 1). */
  delayMs?: number;
  log?: LogFn;
}

/** Writes of kube-controller-manager's controllers. */
export const CONTROLLER_MANAGER = { fieldManager: 'kube-controller-manager' };

/** Runs a write whose target may have changed or gone meanwhile: the next pass sees the new state. */
export function safe(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!isStatusError(e)) throw e;
  }
}

/** Every object of every served resource. */
export function allObjects(store: ClusterStore): { key: ResourceKey; obj: KubeObject }[] {
  const out: { key: ResourceKey; obj: KubeObject }[] = [];
  for (const r of store.resources) {
    const key = keyOf(r);
    for (const obj of store.list(key, undefined).items) out.push({ key, obj });
  }
  return out;
}

/** A pass over the whole cluster run `delayMs` after it is first asked for (asks meanwhile join it). */
export class DebouncedPass {
  private cancel: (() => void) | undefined;
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly pass: () => void,
    private readonly log?: LogFn,
  ) {}

  request(): void {
    if (this.cancel || this.stopped) return;
    this.cancel = this.clock.after(this.delayMs, () => {
      this.cancel = undefined;
      try {
        this.pass();
      } catch (err) {
        // A controller must never crash the host; the next change asks for another pass.
        this.log?.(`${this.name}: ${errorMessage(err)}`);
      } finally {
        if (!this.cancel) this.release();
      }
    });
  }

  /** Resolves once no pass is pending (a pass that asks for another keeps it pending). */
  settled(): Promise<void> {
    if (!this.cancel) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get pending(): boolean {
    return this.cancel !== undefined;
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    this.release();
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A controller that reacts to the store's changes by asking for a pass (its `run`). */
export abstract class PassController {
  protected readonly clock: Clock;
  protected readonly pass: DebouncedPass;
  private unsubscribe: (() => void) | undefined;

  constructor(
    protected readonly store: ClusterStore,
    name: string,
    opts: LifecycleControllerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.pass = new DebouncedPass(name, this.clock, opts.delayMs ?? 1, () => this.run(), opts.log);
  }

  /** What the controller knows before the first change (its informers' initial list). */
  protected abstract seed(): void;
  protected abstract onEvent(ev: StoreEvent): void;
  protected abstract run(): void;

  start(): this {
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev));
    this.seed();
    return this;
  }

  /** Resolves once no pass is pending. */
  settled(): Promise<void> {
    return this.pass.settled();
  }

  get pending(): boolean {
    return this.pass.pending;
  }

  stop(): void {
    this.unsubscribe?.();
    this.pass.stop();
  }
}
