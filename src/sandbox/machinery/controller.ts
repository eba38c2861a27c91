/**
 * The shape every in-process controller shares (client-go's informer + workqueue pattern): handlers turn the store's
 * change stream into keys (an object's, or that of the object a change concerns: its owner, its namespace, its
 * Service), a WorkQueue on the injected clock syncs each key and retries failures, start lists what exists.
 */
import type { ClusterStore, StoreEvent } from '../types.js';
import { systemClock, type Clock } from './clock.js';
import type { LogFn } from './log.js';
import { WorkQueue } from './workqueue.js';

export interface ControllerBaseOptions {
  log?: LogFn;
  /** Time for the controller's conditions, deadlines and retries (default the system clock). */
  clock?: Clock;
}

export abstract class QueueController {
  readonly clock: Clock;
  readonly log?: LogFn;
  protected readonly queue: WorkQueue;
  private unsubscribe?: () => void;

  constructor(
    readonly store: ClusterStore,
    name: string,
    opts: ControllerBaseOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.queue = new WorkQueue((key) => this.sync(key), { name, log: opts.log, clock: this.clock });
  }

  /** Subscribes the handlers and queues every existing object's key (the informers' initial list). */
  start(): this {
    this.unsubscribe = this.store.subscribe((ev) => this.handle(ev));
    for (const key of this.initialKeys()) this.queue.add(key);
    return this;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.stop();
  }

  /** Whether a key is queued or being synced (retries and deadlines waiting on the clock aside). */
  get busy(): boolean {
    return this.queue.busy;
  }

  /** Resolves once no key is queued or being synced (retries and deadlines waiting on the clock aside). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** The event handlers: which keys a change concerns. */
  protected abstract handle(ev: StoreEvent): void;

  /** Brings one key's objects to their desired state. */
  protected abstract sync(key: string): void | Promise<void>;

  /** The keys to sync at start, from what exists (the informers' initial list; a controller may note it meanwhile). */
  protected abstract initialKeys(): string[];
}
