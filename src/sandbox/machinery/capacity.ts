/**
 * A node's capacity as its Node object reads it (`2`, `1500m`, `<n>Ki`), with this machine's cpus and memory as the
 * default: one rule for the Node the kubelet registers and the scheduler's fallback when the Node has none.
 */
import os from 'node:os';
import { parseQuantity } from '../../engine/kube/quantity.js';

export interface NodeCapacity {
  cpu?: string | number;
  memory?: string | number;
  pods?: string | number;
}

/** Pods per node unless configured (the kubelet's maxPods default). */
export const DEFAULT_MAX_PODS = 110;

/** Formats milli-cpu the way a Node's capacity reads (`2`, `1500m`). */
export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Formats bytes the way a kubelet reports memory (`<n>Ki` when whole kibibytes, else bytes). */
export function formatMemory(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes);
}

/** This machine's cpus and memory (whole KiB), as a Node reports them. */
export function machineCapacity(): { cpu: string; memory: string } {
  return { cpu: String(os.cpus().length), memory: formatMemory(Math.floor(os.totalmem() / 1024) * 1024) };
}

/** The Node capacity strings for the sandbox node (defaults: this machine's cpus and memory). */
export function nodeCapacity(c: NodeCapacity = {}): { cpu: string; memory: string } {
  const machine = machineCapacity();
  return {
    cpu: c.cpu === undefined ? machine.cpu : formatCpu(parseQuantity(c.cpu, 3)),
    memory: c.memory === undefined ? machine.memory : formatMemory(parseQuantity(c.memory)),
  };
}
