/**
 * The CLI's side of the in-cluster runner (engine/runner): `deploy --runner cluster` starts it and returns once its
 * first step is under way; inside the runner's pod, `deploy --in-cluster --progress-job JOB` records its progress.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadRunner, BundleError, PlanError, bundleProject, type ProjectSpec, type DeployProgress, type DeployResult, type SecretValues, type KubeClient, type Logger, type DeployPlan, type DeploySettings, type PlanOptions } from '../engine/index.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_USAGE, oneLine, printJson } from './io.js';

/** Names the built CLI the runner ships (a directory holding its index.js and chunks/), instead of this one. */
export const CLI_BUNDLE_ENV = 'BODYWORK_CLI_BUNDLE';

/** The built CLI to ship: BODYWORK_CLI_BUNDLE, else the bundle running now (dist/cli/index.js); exit 2 when neither. */
export function cliBundleDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CLI_BUNDLE_ENV]) return env[CLI_BUNDLE_ENV];
  const entry = process.argv[1] !== undefined && existsSync(process.argv[1]) ? realpathSync(process.argv[1]) : undefined;
  if (entry !== undefined && basename(entry) === 'index.js' && existsSync(join(dirname(entry), 'chunks'))) return dirname(entry);
  throw new CliExit(EXIT_USAGE, `error: --runner cluster ships the built CLI, and this is not it (${entry ?? 'unknown entry'}): run dist/cli/index.js, or set ${CLI_BUNDLE_ENV} to a build (node scripts/build.mjs --out DIR; DIR/cli)`);
}

export interface InClusterStart {
  io: CliIo;
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  /** The code source options the plan was made with: the runner's pod gets the project the same way. */
  source: Pick<PlanOptions, 'codeSource' | 'repoSubdir'>;
  runId: string;
  settings: DeploySettings;
  /** The commit deployed (the runner's pod has no checkout to ask). */
  commitSha?: string;
  secrets: SecretValues[];
  runnerImage?: string;
  json: boolean;
  signal: AbortSignal;
}

/** `deploy --runner cluster`: starts the runner, waits for its first step, prints where to follow it. */
export async function startInCluster(o: InClusterStart): Promise<void> {
  const { CliBundleError, runnerCode, runnerStartWaitMs, startRunner, waitForRunnerStart } = await loadRunner();
  let code;
  try {
    code = runnerCode(o.source.codeSource?.type === 'git' ? o.source : { codeBundle: await bundleProject(o.spec, (m) => o.logger.debug(m)) });
  } catch (e) {
    if (e instanceof BundleError || e instanceof PlanError) throw new CliExit(EXIT_USAGE, `error: ${e.message}`);
    throw e;
  }
  let started;
  try {
    started = await startRunner({
      client: o.client,
      logger: o.logger,
      spec: o.spec,
      plan: o.plan,
      code,
      cliDir: cliBundleDir(),
      settings: o.settings,
      runId: o.runId,
      signal: o.signal,
      ...(o.commitSha !== undefined ? { commitSha: o.commitSha } : {}),
      ...(o.runnerImage !== undefined ? { runnerImage: o.runnerImage } : {}),
      ...(o.secrets.length > 0 ? { secrets: o.secrets } : {}),
    });
  } catch (e) {
    if (e instanceof CliBundleError) throw new CliExit(EXIT_USAGE, `error: ${e.message}`);
    throw e;
  }
  const start = await waitForRunnerStart(o.client, started.namespace, started.job, { timeoutMs: runnerStartWaitMs(o.settings), signal: o.signal, logger: o.logger });
  const doc = {
    project: o.plan.project,
    namespace: started.namespace,
    runId: started.runId,
    job: started.job,
    follow: started.follow,
    ...(start.started ? { phase: start.progress.phase, step: start.progress.step, steps: start.progress.steps, running: start.progress.running } : { phase: 'failed', reason: start.reason }),
  };
  if (o.json) printJson(o.io, doc);
  if (!start.started && start.logTail !== undefined) o.io.stderr(`last lines of the runner's log:\n${start.logTail.map((l) => `  ${oneLine(l)}\n`).join('')}`);
  if (!start.started) throw new CliExit(EXIT_FAILURE, oneLine(`error: the in-cluster runner did not start: ${start.reason} (kubectl describe job/${started.job} -n ${started.namespace})`));
  const p = start.progress;
  const where = p.step >= 1 && p.running.length > 0 ? `step ${p.step}/${p.steps} under way (${p.running.join(', ')})` : `run ${p.phase}${p.reason ? `: ${p.reason}` : ''}`;
  const lines = [
    `the in-cluster runner is deploying ${o.plan.project}: Job ${started.job} in namespace ${started.namespace}, ${where}`,
    `follow it:  ${started.follow}`,
    `progress:   bodywork-deploy status <dir> -n ${started.namespace}`,
    `cancel it:  bodywork-deploy cancel <dir> -n ${started.namespace}`,
  ];
  for (const line of lines) (o.json ? o.io.stderr : o.io.stdout)(`${oneLine(line)}\n`);
}

/** Inside the runner's pod: the progress record of run `job`, fed by the engine and given the result. */
export async function progressRecorder(client: KubeClient, logger: Logger, start: { project: string; namespace: string; job: string; runId: string }) {
  const { ProgressRecorder, pruneRunnerHistory } = await loadRunner();
  const recorder = new ProgressRecorder(client, logger, start);
  await recorder.started();
  await pruneRunnerHistory(client, logger, start.namespace, start.project);
  return {
    onProgress: (p: DeployProgress) => void recorder.step(p),
    finish: (result: DeployResult, cancelled: boolean) => recorder.finish(result, cancelled),
    failed: (reason: string) => recorder.failed(reason),
  };
}
