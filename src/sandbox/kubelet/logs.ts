/**
 * Container log capture, and which instance a `pods/log` request reads (log-reader.ts reads it).
 *
 * Each container instance writes one file `<dataDir>/pods/<uid>/logs/<container>/<restartCount>.log` in the CRI
 * log format the real kubelet reads (K pkg/kubelet/kuberuntime/logs/logs.go): `<RFC3339Nano> <stream> <P|F> <text>`
 * per line, `P` marking a partial line (output without a trailing newline, flushed when the instance ends).
 * Timestamps are kept so `timestamps`, `sinceSeconds` and `sinceTime` work as upstream.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { systemClock, type Clock } from '../machinery/clock.js';
import { rfc3339Nano } from '../machinery/time.js';
import { badRequest } from '../machinery/errors.js';
import type { KubeObject, PodLogOptions } from '../types.js';
import type { LogLine } from './log-reader.js';

/** Writes one container instance's output and notifies followers. */
export class LogWriter extends EventEmitter {
  private readonly fd: number;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly partial = { stdout: '', stderr: '' };
  private closedFlag = false;

  constructor(
    readonly file: string,
    /** Stamps each line (the kubelet's clock). */
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    super();
    this.setMaxListeners(0);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.closedFlag) return;
    let text = this.partial[stream] + this.decoders[stream].write(chunk);
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.emitLine(stream, text.slice(0, nl + 1));
      text = text.slice(nl + 1);
    }
    // Long lines without a newline are flushed as partial records (the runtime does this at 16 KiB).
    if (text.length >= 16 * 1024) {
      this.emitLine(stream, text);
      text = '';
    }
    this.partial[stream] = text;
  }

  private emitLine(stream: 'stdout' | 'stderr', text: string): void {
    const ms = this.clock.now();
    const line: LogLine = { ms, ts: rfc3339Nano(ms), stream, text };
    const complete = text.endsWith('\n');
    const body = complete ? text.slice(0, -1) : text;
    fs.writeSync(this.fd, `${line.ts} ${stream} ${complete ? 'F' : 'P'} ${body}\n`);
    this.emit('line', line);
  }

  /** Flushes partial lines and ends followers. */
  close(): void {
    if (this.closedFlag) return;
    for (const s of ['stdout', 'stderr'] as const) {
      const rest = this.partial[s] + this.decoders[s].end();
      if (rest) this.emitLine(s, rest);
      this.partial[s] = '';
    }
    this.closedFlag = true;
    fs.closeSync(this.fd);
    this.emit('end');
  }
}

/** The container a `pods/log` request names: `lo.container`, else the pod's only one (K pkg/registry/core/pod/strategy.go LogLocation). */
function logContainer(pod: KubeObject, podName: string, lo: PodLogOptions): string {
  const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: any) => c.name);
  const container = lo.container;
  if (!container) {
    if (names.length === 1) return names[0];
    if (names.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
    let msg = `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`;
    if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
    throw badRequest(msg);
  }
  if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  return container;
}

/**
 * Which container instance a `pods/log` request reads, from the pod's status (K pkg/kubelet/kubelet_pods.go
 * validateContainerLogStatus): its container name and containerID, or undefined for a pod not yet scheduled (no
 * logs). Throws the API server's BadRequest wording when there is nothing to read.
 */
export function logTarget(pod: KubeObject, podName: string, lo: PodLogOptions): { container: string; containerID: string } | undefined {
  const container = logContainer(pod, podName, lo);
  if (!pod.spec?.nodeName) return undefined;
  const statuses: any[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const st = statuses.find((s) => s.name === container);
  if (!st) throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
  const lastT = st.lastState?.terminated;
  let cID: string;
  if (lo.previous) {
    if (!lastT?.containerID) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    cID = lastT.containerID;
  } else if (st.state?.running) cID = st.containerID;
  else if (st.state?.terminated) {
    cID = st.state.terminated.containerID || lastT?.containerID;
    if (!cID) throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
  } else if (lastT) {
    if (!lastT.containerID) throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
    cID = lastT.containerID;
  } else if (st.state?.waiting) {
    const reason = st.state.waiting.reason;
    if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  } else throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
  return { container, containerID: cID };
}
