/**
 * What the in-cluster runner's suites share: the CLI bundle the runner Job ships, built from this source into a temp
 * dir once per file (scripts/build.mjs), the CLI and the action run against it, and waits on a run's record.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { waitFor, type KubeClient } from '../../../src/engine/kube/index.js';
import { isFinal, parseProgress } from '../../../src/engine/runner/index.js';
import { cliWithEnv, repo } from '../../cli/support/run-cli.js';

/** Builds the CLI before the file's tests; `env` points the CLI and the action at it (BODYWORK_CLI_BUNDLE). */
export function useBuiltCli(): { env: () => Record<string, string> } {
  let dist = '';
  beforeAll(() => {
    dist = mkdtempSync(join(tmpdir(), 'bodywork-runner-dist-'));
    const built = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs'), '--out', dist], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  }, 180_000);
  afterAll(() => rmSync(dist, { recursive: true, force: true }));
  return { env: () => ({ BODYWORK_CLI_BUNDLE: join(dist, 'cli') }) };
}

/** The CLI with the built bundle, against the cluster of `kubeconfigFile`. */
export function runnerCli(built: { env: () => Record<string, string> }, kubeconfigFile: () => string) {
  return (...args: string[]) => cliWithEnv(built.env(), ...args, '--kubeconfig', kubeconfigFile());
}

/** A stage that waits until `file` exists, then prints its name. */
export const waitsFor = (file: string, name: string) =>
  `import os, time\nprint("${name} waiting", flush=True)\nwhile not os.path.exists(${JSON.stringify(file)}):\n    time.sleep(0.1)\nprint("${name} done", flush=True)\n`;

/** The record of run `job` once it has ended. */
export async function finalRecord(client: KubeClient, namespace: string, job: string) {
  return waitFor<V1ConfigMap, ReturnType<typeof parseProgress>>(
    { client, path: `/api/v1/namespaces/${namespace}/configmaps`, fieldSelector: `metadata.name=${job}` },
    (all) => {
      const p = parseProgress(all.get(job));
      return p !== undefined && isFinal(p.phase) ? p : undefined;
    },
    { timeoutMs: 150_000, description: `the runner ${job} to finish` },
  );
}
