/**
 * One run's timings per stage, from three clocks that agree (one host): the deployer's (step start, stage reported
 * done), the watcher's (objects and pod states reaching the API) and the stage script's own stamps (its log).
 */
import type { PlannedStage } from '../src/engine/plan/index.js';
import type { Observer } from './observer.js';
import { parseStamps } from './project.js';

export interface StageSample {
  stage: string;
  step: number;
  type: 'batch' | 'service';
  /** The deployer began the stage's step. */
  stepStart: number;
  /** The stage's Job or Deployment first seen in the API. */
  created?: number;
  /** The stage's (latest) pod first seen: created, bound to the node, with its container running. */
  podCreated?: number;
  podScheduled?: number;
  podRunning?: number;
  /** The script's own stamps. */
  scriptStart?: number;
  scriptEnd?: number;
  listening?: number;
  /** The pod first seen terminated (batch) or Ready (service). */
  terminated?: number;
  ready?: number;
  /** The deployer reported the stage finished (batch) or ready (service). */
  done: number;
}

export interface RunSample {
  /** ours: the engine in this process; action: the action bundle run from outside (its start-up counts); kubectl: the baseline. */
  deployer: 'ours' | 'action' | 'kubectl';
  wallMs: number;
  /** From the run's start to its first step's start: namespace, RBAC, code (and for ours the lock and secret check). */
  setupMs: number;
  /** From the last stage done to the run's end (ours: pruning, the lock's release). */
  tailMs: number;
  stages: StageSample[];
  /** API requests of the run by verb (ours: KubeClient's verbs; kubectl: HTTP methods from its -v=6 log). */
  requests: Record<string, number>;
  /**
   * CPU time of the bench's own process during the run: the embedded sandbox (API server, controllers, kubelet) or,
   * upstream, our node's kubelet, plus the observer's watches, which are alike for both deployers.
   */
  hostCpuMs?: number;
}

/** The stage's times; read before its namespace is deleted (the script stamps come from the pod's log). */
export async function stageSample(observer: Observer, namespace: string, stage: PlannedStage, step: number, stepStart: number, done: number): Promise<StageSample> {
  const object = stage.type === 'batch' ? (['Job', stage.job.metadata!.name!] as const) : (['Deployment', stage.deployment.metadata!.name!] as const);
  // The latest pod: a retry or restart would have replaced the first.
  const pod = observer.pods(namespace, stage.selector).sort((a, b) => b.created - a.created)[0];
  const stamps = pod ? parseStamps(await observer.client.podLog(namespace, pod.name)) : {};
  return {
    stage: stage.stage,
    step,
    type: stage.type,
    stepStart,
    done,
    created: observer.created(object[0], namespace, object[1]) ?? observer.firstCreated(object[0], namespace, stage.selector),
    podCreated: pod?.created,
    podScheduled: pod?.scheduled,
    podRunning: pod?.running,
    scriptStart: stamps.start,
    scriptEnd: stamps.end,
    listening: stamps.listening,
    terminated: pod?.terminated,
    ready: pod?.ready,
  };
}

/** The stage's nominal work: its script's run time (batch), or its time to listen (service). */
export function nominalMs(s: StageSample): number | undefined {
  const end = s.type === 'batch' ? s.scriptEnd : s.listening;
  return end !== undefined && s.scriptStart !== undefined ? end - s.scriptStart : undefined;
}
