/** What a fidelity scenario is, and the workload manifests several of them share. */
import type { RawApi } from './http.js';

export interface ScenarioEnv {
  /** Runs kubectl with this cluster's kubeconfig; answers stdout (rejects with stderr on a non-zero exit). */
  kubectl(args: string[]): Promise<string>;
}

export interface Scenario {
  name: string;
  /** Needs pods to run (a node attached), not just the control plane. */
  needsNode?: boolean;
  /** Runs in a fresh namespace `ns`; answers the observable results, compared field by field across control planes. */
  run(api: RawApi, ns: string, env: ScenarioEnv): Promise<Record<string, unknown>>;
}

/** Scheduled nowhere: a node selector no node has, so pods stay Pending whatever nodes exist. */
export const NOWHERE = { 'fidelity.bodywork.dev/nowhere': 'true' };

export function deployment(ns: string, name: string, o: { image?: string; command?: string[]; replicas?: number; progressDeadlineSeconds?: number; pending?: boolean; neverReady?: boolean } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: o.replicas ?? 1,
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(o.pending ? { nodeSelector: NOWHERE } : {}),
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: o.image ?? 'busybox:1.36',
              command: o.command ?? ['sh', '-c', 'exec sleep 600'],
              ...(o.neverReady ? { readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } } : {}),
            },
          ],
        },
      },
    },
  };
}

export function job(ns: string, name: string, o: { command: string[]; backoffLimit?: number; activeDeadlineSeconds?: number }) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      backoffLimit: o.backoffLimit ?? 0,
      ...(o.activeDeadlineSeconds ? { activeDeadlineSeconds: o.activeDeadlineSeconds } : {}),
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: 'busybox:1.36', command: o.command }],
        },
      },
    },
  };
}

/** `type=status reason` for each condition, in the server's order. */
export function conditions(o: any): string {
  return (o?.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status} ${c.reason ?? ''}`.trim()).join('; ');
}
