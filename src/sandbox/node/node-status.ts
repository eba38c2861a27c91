/**
 * Node registration and heartbeats, as upstream's kubelet does them (K pkg/kubelet/kubelet_node_status.go
 * registerWithAPIServer/tryUpdateNodeStatus, K pkg/kubelet/nodelease): create the Node (or adopt an existing one),
 * patch its status, keep its Lease in `kube-node-lease` renewed every 10 s with leaseDurationSeconds 40, and post
 * the full status every `statusReportMs` (upstream nodeStatusReportFrequency, 5 min) — the node lifecycle controller
 * of kube-controller-manager reads the Lease for liveness and Ready from the status.
 *
 * A unit with explicit state (`registered`, `renewals`, `lastError`) and an injected clock.
 */
import os from 'node:os';
import { DEFAULT_MAX_PODS, machineCapacity } from '../machinery/capacity.js';
import { microTime, nowRFC3339 } from '../machinery/time.js';
import type { KubeObject } from '../types.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import { NodeApiError, type NodeHttp } from './http.js';

export interface NodeStatusOptions {
  nodeName: string;
  hostIP: string;
  /** The kubelet API's port (status.daemonEndpoints.kubeletEndpoint.Port); 0 when not served. */
  kubeletPort: number;
  capacity?: { cpu?: string; memory?: string };
  clock?: Clock;
  /** Lease renewal period (upstream 10 s: leaseDurationSeconds 40 × 0.25). */
  renewMs?: number;
  leaseDurationSeconds?: number;
  /** Full status report period (upstream 5 min). */
  statusReportMs?: number;
  /** Retry period of a failed registration or renewal (upstream 7 s for registration back-off start; 200 ms jitter not modelled). */
  retryMs?: number;
  log?: (m: string) => void;
}

const LEASE_NS = 'kube-node-lease';
const arch = (): string => (process.arch === 'x64' ? 'amd64' : process.arch);

/** The Node as this kubelet registers it (labels, capacity, addresses, conditions, nodeInfo, daemon endpoint). */
export function nodeObject(o: Pick<NodeStatusOptions, 'nodeName' | 'hostIP' | 'kubeletPort' | 'capacity'>, nowMs: number): KubeObject {
  const now = nowRFC3339(nowMs);
  const machine = machineCapacity();
  const cap = {
    cpu: o.capacity?.cpu ?? machine.cpu,
    memory: o.capacity?.memory ?? machine.memory,
    pods: String(DEFAULT_MAX_PODS),
    'ephemeral-storage': '0',
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: now, reason, message });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: o.nodeName,
      labels: { 'kubernetes.io/hostname': o.nodeName, 'kubernetes.io/os': process.platform, 'kubernetes.io/arch': arch(), 'beta.kubernetes.io/os': process.platform, 'beta.kubernetes.io/arch': arch() },
    },
    spec: {},
    status: {
      capacity: cap,
      allocatable: cap,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: o.hostIP },
        { type: 'Hostname', address: o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kubeletVersion: 'v1.34.0-sandbox',
        kubeProxyVersion: '',
        operatingSystem: process.platform,
        architecture: arch(),
        containerRuntimeVersion: `sandbox://${process.version}`,
        osImage: `${os.type()} ${os.release()}`,
        kernelVersion: os.release(),
      },
    },
  };
}

export class NodeStatusReporter {
  registered = false;
  /** Successful Lease writes so far. */
  renewals = 0;
  statusReports = 0;
  lastError: string | undefined;
  private nodeUid: string | undefined;
  private lease: KubeObject | undefined;
  private cancelRenew: (() => void) | undefined;
  private cancelReport: (() => void) | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly log: (m: string) => void;

  constructor(
    private readonly api: NodeHttp,
    private readonly o: NodeStatusOptions,
  ) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? (() => {});
  }

  /** Registers the Node and its Lease, retrying until it succeeds, then keeps both fresh until stop(). */
  async start(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.register();
        await this.renewLease();
        break;
      } catch (err) {
        this.fail('registering the node', err);
        await new Promise<void>((r) => this.clock.after(this.o.retryMs ?? 1000, r));
      }
    }
    this.scheduleRenew();
    this.scheduleReport();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRenew?.();
    this.cancelReport?.();
  }

  private fail(what: string, err: unknown): void {
    this.lastError = `${what}: ${(err as Error).message}`;
    this.log(`node ${this.o.nodeName}: ${this.lastError}`);
  }

  private async register(): Promise<void> {
    const node = nodeObject(this.o, this.clock.now());
    let created: KubeObject;
    try {
      created = await this.api.request('POST', '/api/v1/nodes', node);
    } catch (err) {
      if (!(err instanceof NodeApiError && err.code === 409)) throw err;
      // Already registered (a restart): adopt it, refreshing the labels we own.
      created = await this.api.request('PATCH', `/api/v1/nodes/${this.o.nodeName}`, { metadata: { labels: node.metadata.labels } }, 'application/merge-patch+json');
    }
    this.nodeUid = created.metadata.uid;
    await this.reportStatus();
    this.registered = true;
  }

  /** Patches the whole kubelet-owned status (conditions with fresh heartbeats, capacity, addresses, endpoint). */
  async reportStatus(): Promise<void> {
    const status = nodeObject(this.o, this.clock.now()).status;
    await this.api.request('PATCH', `/api/v1/nodes/${this.o.nodeName}/status`, { status }, 'application/merge-patch+json');
    this.statusReports++;
  }

  /** One renewal: creates the Lease (owned by the Node) when missing, else updates renewTime. */
  async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases/${this.o.nodeName}`;
    const now = microTime(this.clock.now());
    const spec = { holderIdentity: this.o.nodeName, leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40, renewTime: now };
    if (!this.lease) {
      try {
        this.lease = await this.api.request('GET', path);
      } catch (err) {
        if (!(err instanceof NodeApiError && err.code === 404)) throw err;
        const lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.o.nodeName,
            namespace: LEASE_NS,
            ...(this.nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.nodeUid }] } : {}),
          },
          spec,
        };
        this.lease = await this.api.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases`, lease);
        this.renewals++;
        return;
      }
    }
    try {
      this.lease = await this.api.request('PUT', path, { ...this.lease, spec: { ...this.lease!.spec, ...spec } });
      this.renewals++;
    } catch (err) {
      // Conflict or gone: read it again next time (K nodelease controller: retry with a fresh GET).
      this.lease = undefined;
      throw err;
    }
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.cancelRenew = this.clock.after(this.o.renewMs ?? 10_000, () => {
      this.renewLease().then(
        () => {
          this.lastError = undefined;
        },
        (err) => this.fail('renewing the lease', err),
      ).finally(() => this.scheduleRenew());
    });
  }

  private scheduleReport(): void {
    if (this.stopped) return;
    this.cancelReport = this.clock.after(this.o.statusReportMs ?? 300_000, () => {
      this.reportStatus()
        .catch((err) => this.fail('reporting node status', err))
        .finally(() => this.scheduleReport());
    });
  }
}
