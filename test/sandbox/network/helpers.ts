/** Helpers for the pod-network tests: client-node against a real sandbox, polling, in-pod commands. */
import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import type { Sandbox } from '../../../src/sandbox/index.js';
import { eventually } from '../../support/eventually.js';

export interface Clients {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
}

export function clients(sb: Sandbox): Clients {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig);
  return { core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), batch: kc.makeApiClient(k8s.BatchV1Api) };
}

/** Polls until `fn` returns a truthy value; fails with `what` and the last value (test/support/eventually.ts). */
export function until<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 60_000): Promise<T> {
  return eventually(fn, what, timeoutMs, 150);
}

/** Children of this process (pid -> command line), from /proc. */
export function childProcesses(): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.set(Number(d), fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      /* gone */
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A node HTTP server answering `<HOSTNAME> <path>` on `port` (starts in ~50 ms, unlike python). */
export function nodeServer(port: number): string[] {
  return [process.execPath, '-e', `require('http').createServer((q,s)=>s.end(process.env.HOSTNAME+' '+q.url)).listen(${port})`];
}

export const isolationPossible = process.platform === 'linux' && process.getuid?.() === 0;
