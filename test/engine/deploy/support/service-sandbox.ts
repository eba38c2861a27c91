/**
 * Service-stage test support: a one-service ProjectSpec, its plan made runnable in the sandbox, a DeployContext, and a
 * recorder of ReplicaSet watch events.
 */
import type { V1Container, V1ReplicaSet } from '@kubernetes/client-node';
import type { ProjectSpec, StageSpec } from '../../../../src/engine/config/spec.js';
import type { DeployContext } from '../../../../src/engine/deploy/types.js';
import { KubeClient, loadKubeConfig, watchObjects } from '../../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../../src/engine/logger.js';
import { planProject, type DeployPlan, type PlannedServiceStage } from '../../../../src/engine/plan/index.js';

export const STAGE = 'stage-2-serve';

export interface ServiceSpecOptions {
  replicas?: number;
  port?: number;
  maxStartupTimeSeconds?: number;
  ingress?: boolean;
  secrets?: StageSpec['secrets'];
  cpuRequest?: number;
}

/** A YAML-era project with one service stage (as the loader would produce it). */
export function serviceProjectSpec(name: string, o: ServiceSpecOptions = {}): ProjectSpec {
  return {
    format: 'yaml',
    schemaVersion: '1.1',
    root: `/projects/${name}`,
    configFile: 'bodywork.yaml',
    name,
    image: 'bodyworkml/bodywork-core:latest',
    dag: [[STAGE]],
    dagSource: { file: 'bodywork.yaml', line: 5 },
    logLevel: 'INFO',
    stages: {
      [STAGE]: {
        name: STAGE,
        type: 'service',
        executable: 'serve.py',
        args: [],
        requirements: [],
        secrets: o.secrets ?? [],
        source: { file: 'bodywork.yaml', line: 9 },
        cpuRequest: o.cpuRequest ?? 0.1,
        memoryRequestMb: 10,
        service: { maxStartupTimeSeconds: o.maxStartupTimeSeconds ?? 30, replicas: o.replicas ?? 2, port: o.port ?? 5000, ingress: o.ingress ?? false },
      },
    },
  };
}

export interface SandboxOverrides {
  /** The container's command (default: a `sleep` that needs no port). */
  command?: string[];
  /** The readiness probe's exec command (default `true`: ready as soon as it runs). */
  ready?: string[];
  /** Extra env vars of the container. */
  env?: { name: string; value: string }[];
  /** Resource requests replacing the planned ones. */
  requests?: Record<string, string>;
}

/**
 * Plans the project and adapts its one service stage to the sandbox, minimally:
 * - command: the planned one runs `bodywork`/pip, which the sandbox (images are labels) does not have: a `sleep`
 *   instead (exec'd, so SIGTERM ends it at once);
 * - probes: the planned TCP probes need a listening port, and until per-pod network namespaces land two replicas
 *   cannot bind the same one: the readiness probe becomes `exec: [true]` (period 1 s), the startup and liveness
 *   probes are dropped (they only restart a server that never listens, which `sleep` never does).
 * Everything else (strategy maxSurge 2 / maxUnavailable 0, selector, labels, run annotation, progress deadline) is
 * the plan's.
 */
export function sandboxPlan(spec: ProjectSpec, namespace: string, runId: string, o: SandboxOverrides = {}): { plan: DeployPlan; stage: PlannedServiceStage } {
  const plan = planProject(spec, { namespace, runId, commitSha: 'abcdef1234567' });
  const stage = plan.steps[0].stages[0];
  if (stage.type !== 'service') throw new Error('expected a service stage');
  const c: V1Container = stage.deployment.spec!.template.spec!.containers[0];
  c.command = o.command ?? ['sh', '-c', 'exec sleep 600'];
  delete c.startupProbe;
  delete c.livenessProbe;
  // Patient with a healthy pod (a probe on a loaded machine can be slow: a pod that was ready stays so through a
  // slow probe or two), quick to notice a never-ready one (its first success is what makes it ready).
  c.readinessProbe = { exec: { command: o.ready ?? ['true'] }, periodSeconds: 1, failureThreshold: 3, timeoutSeconds: 10 };
  if (o.env) c.env = [...(c.env ?? []), ...o.env];
  if (o.requests) c.resources = { requests: o.requests };
  return { plan, stage };
}

/** A KubeClient for the sandbox over HTTP, with quick retries. */
export function sandboxClient(kubeconfig: string, logger: RecordingLogger): KubeClient {
  return KubeClient.create(loadKubeConfig({ content: kubeconfig }).kc, logger, { retry: { baseMs: 20, capMs: 200 } });
}

/** A RecordingLogger whose test can wait for a message (no polling). */
export class ServiceTestLogger extends RecordingLogger {
  private waiters: { pred: (m: string) => boolean; resolve: () => void }[] = [];
  override debug(message: string): void {
    super.debug(message);
    this.notify(message);
  }
  override info(message: string): void {
    super.info(message);
    this.notify(message);
  }
  private notify(message: string): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(message)) return true;
      w.resolve();
      return false;
    });
  }
  /** Resolves at the first debug/info message (logged from now on) that satisfies `pred`. */
  next(pred: (m: string) => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a log message')), timeoutMs);
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

export function deployContext(client: KubeClient, logger: RecordingLogger, spec: ProjectSpec, plan: DeployPlan, runId: string, signal = new AbortController().signal): DeployContext {
  return { client, logger, spec, plan, namespace: plan.namespace, runId, signal };
}

/** Applies the plan's set-up objects (Namespace, ServiceAccount, Role, RoleBinding): stage pods run as that account. */
export async function applySetup(client: KubeClient, plan: DeployPlan): Promise<void> {
  for (const o of plan.setup) await client.apply(o as Parameters<KubeClient['apply']>[0]);
}

export interface RsSample {
  name: string;
  revision?: string;
  replicas: number;
  ready: number;
}

/** Records every ReplicaSet change in the namespace (from a watch) until stopped. */
export async function recordReplicaSets(client: KubeClient, namespace: string): Promise<{ samples: RsSample[]; stop: () => void }> {
  const ac = new AbortController();
  const samples: RsSample[] = [];
  let synced!: () => void;
  const ready = new Promise<void>((r) => (synced = r));
  const sample = (rs: V1ReplicaSet) =>
    samples.push({
      name: rs.metadata!.name!,
      revision: rs.metadata?.annotations?.['deployment.kubernetes.io/revision'],
      replicas: rs.spec?.replicas ?? 0,
      ready: rs.status?.readyReplicas ?? 0,
    });
  void watchObjects<V1ReplicaSet>({
    client,
    path: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
    signal: ac.signal,
    onSync: () => synced(),
    onEvent: (e) => {
      if (e.type !== 'DELETED') sample(e.object);
    },
  });
  await ready;
  return { samples, stop: () => ac.abort() };
}
