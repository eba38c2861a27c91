/** Shared by the commands that talk to a cluster: flags -> client, the plan of a project, durations, tables. */
import { execFile } from 'node:child_process';
import type { ProjectSpec } from '../engine/config/spec.js';
import { KubeClient, KubeConfigError, loadKubeConfig } from '../engine/kube/index.js';
import type { Logger } from '../engine/logger.js';
import { BundleError, PlanError, bundleProject, planProject, type DeployPlan, type PlanOptions } from '../engine/plan/index.js';
import { CliExit, EXIT_USAGE } from './io.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

/** A client for the kubeconfig the flags (or KUBECONFIG, ~/.kube/config) name; a bad kubeconfig ends the command with exit 2. */
export function clientFromFlags(flags: ClusterFlags, logger: Logger, content?: string): KubeClient {
  try {
    const loaded = loadKubeConfig({
      ...(content !== undefined ? { content } : {}),
      ...(flags.kubeconfig !== undefined ? { path: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
    });
    logger.debug(`kubeconfig from ${loaded.source} (${loaded.files.join(', ') || 'content'}), context ${loaded.context}, server ${loaded.server}`);
    return KubeClient.create(loaded.kc, logger);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new CliExit(EXIT_USAGE, `error: ${error.message}`);
    throw error;
  }
}

/** The commit checked out in `dir` (`git rev-parse HEAD`), or undefined when `dir` is not in a git checkout. */
export function gitCommit(dir: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', 'HEAD'], { cwd: dir, timeout: 10_000 }, (error, stdout) => {
      const sha = stdout?.trim();
      resolve(!error && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined);
    });
  });
}

/** Bundles and plans; bad options or an unshippable project end the command with exit 2. */
export async function planOrExit(spec: ProjectSpec, options: PlanOptions = {}, bundle = true): Promise<DeployPlan> {
  try {
    return planProject(spec, { ...options, ...(bundle ? { codeBundle: await bundleProject(spec) } : {}) });
  } catch (error) {
    if (error instanceof PlanError || error instanceof BundleError) throw new CliExit(EXIT_USAGE, `error: ${error.message}`);
    throw error;
  }
}

/** `30m`, `90s`, `1h30m`, `2h`, `500ms`, or plain seconds -> milliseconds; undefined when not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000 || undefined;
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return ms > 0 ? ms : undefined;
}

/** Rows as aligned columns (two spaces apart), the first row being the header. */
export function renderTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}
