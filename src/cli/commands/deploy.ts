/**
 * `bodywork-deploy deploy [DIR]`: deploys a project to a cluster (or, with --sandbox, to an embedded sandbox that
 * keeps serving until Ctrl-C). Progress and stage logs (`[stage] ...`) go to stderr as they happen; the final table
 * of stages (or, with `-o json`, the DeployResult as one JSON document) goes to stdout. Exit 0: every stage succeeded; 1: the deployment failed; 2: bad usage or project
 * (nothing written to the cluster); 130/143: interrupted (SIGINT/SIGTERM; running stages cancelled, Jobs deleted).
 */
import { type Command, Option } from 'commander';
import {
  loadDeploy,
  formatDuration,
  DEFAULT_KEEP_JOBS,
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_TIMEOUT,
  neutralise,
  newRunId,
  type DeployPlan,
  type DeployResult,
  type DeploySettings,
  type KubeClient,
  type Logger,
  type PlannedServiceStage,
  type PlanOptions,
  type ProjectSpec,
  type SecretInput,
  type SecretValues,
} from '../../engine/index.js';
import { OBJECT_STORE_KEYS } from '../../sandbox/object-store.js';
import { type ClusterFlags, type CodeSourceFlags, clientFromFlags, codeSourceOptions, gitCommit, outputOption, planOrExit, withClusterOptions, renderTable } from '../cluster.js';
import { CliExit, type CliIo, collect, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine, paint, printJson, stderrLogger } from '../io.js';
import { type Paint, statusStyle } from '../style.js';
import { loadProjectOrExit } from '../project.js';
import { settingsFromFlags } from '../settings.js';
import { missingSandboxSecrets, type SecretFlags, secretsFromFlags } from '../secrets.js';
import { type RegistryFlags, registryFromFlags, sandboxRegistries, withRegistryOptions } from '../registry.js';
import { DeploySandbox } from './deploy-sandbox.js';

interface DeployFlags extends ClusterFlags, CodeSourceFlags, SecretFlags, RegistryFlags {
  namespace?: string;
  image?: string;
  ingressClass?: string;
  stages?: string;
  timeout: string;
  sandbox?: boolean;
  runId?: string;
  commit?: string;
  verbose?: boolean;
  keepJobs?: string;
  lockTimeout?: string;
  prune: boolean;
  output: 'text' | 'json';
  runner: string;
  runnerImage?: string;
  inCluster?: boolean;
  progressJob?: string;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** The final table: stage, type, result, attempts, duration, URL (results coloured by `p`). */
export function resultTable(result: DeployResult, p?: Paint): string {
  const rows = [['STAGE', 'TYPE', 'RESULT', 'ATTEMPTS', 'DURATION', 'URL']];
  for (const s of result.stages) {
    rows.push([
      s.step === 0 ? `${s.stage} (on failure)` : s.stage,
      s.type,
      s.status,
      String(s.attempts),
      s.durationMs !== undefined ? formatDuration(s.durationMs) : '-',
      s.publicUrl ?? s.url ?? '',
    ]);
  }
  return renderTable(rows, (cell, row, column) => {
    const style = row > 0 && column === 2 ? statusStyle(cell) : undefined;
    return p && style ? p(style, cell) : cell;
  });
}

export function registerDeploy(program: Command, io: CliIo): void {
  const command = program
    .command('deploy')
    .description('deploy the project: batch stages as Jobs, service stages as Deployments, step by step, with live stage logs (exit 0: deployed, 1: failed, 2: bad usage or project)')
    .argument('[dir]', 'project directory', '.');
  withDeployOptions(command);
  withRegistryOptions(command, true).action((dir: string, flags: DeployFlags) => deploy(io, dir, flags));
}

/** The deploy command's own options, after the cluster's (the registry's come last). */
function withDeployOptions(command: Command): Command {
  return withClusterOptions(command, 'target namespace (default: the project namespace, else the project name)')
    .option('--image <image>', "image for every stage, instead of the project's")
    .option('--ingress-class <class>', "ingressClassName of service stages with an ingress (default: the cluster's default IngressClass, else nginx)")
    .option('--stages <names>', 'deploy only these stages (comma-separated config names)')
    .option('--timeout <duration>', 'give up (cancelling running stages) after this long: 30m, 1h, 90s', DEFAULT_TIMEOUT)
    .option('--keep-jobs <n>', 'finished Jobs kept per batch stage after each step (0: delete them all)', String(DEFAULT_KEEP_JOBS))
    .option('--lock-timeout <duration>', "how long to wait for another run's deploy lock on the namespace: 10m, 90s", DEFAULT_LOCK_TIMEOUT)
    .option('--no-prune', 'after a successful run, keep the objects of stages gone from the DAG and unused code bundles')
    .option('--code-source <source>', 'how stages get the code: bundle (ConfigMaps, default) or git (clone the commit of DIR)', 'bundle')
    .option('--git-url <url>', "with --code-source git: the repository to clone (default: DIR's origin remote)")
    .option('--git-token-secret <name>', "with --code-source git: a Secret in the namespace whose 'token' key authenticates the clone")
    .option('--git-subdir <path>', "with --code-source git: the project's directory in the repository (default: DIR's path in its checkout)")
    .option('--commit <sha>', 'git commit being deployed (default: the checkout of DIR at HEAD)')
    .option('--run-id <id>', 'id of this run (Job names, pod annotation); default: a new one')
    .option('--secret <NAME.KEY=VALUE>', 'create or update Secret NAME with KEY in the namespace before any stage starts, under the deploy lock (repeatable; the value is never printed)', collect)
    .option('--secrets-file <file>', 'the same from a file: one NAME.KEY=VALUE a line, # comments (the action\'s secrets input format)')
    .option('--sandbox', 'deploy into an embedded Kubernetes sandbox and keep it serving until Ctrl-C')
    .addOption(new Option('--runner <where>', 'where the DAG runs: runner (this process) or cluster (a Job in the namespace that outlives this command, which returns once the first step is under way)').choices(['runner', 'cluster']).default('runner'))
    .option('--runner-image <image>', 'with --runner cluster: the Node image of the runner Job (default node:24-slim)')
    // Set by the in-cluster runner's Job (engine/runner/objects.ts), not by people.
    .addOption(new Option('--in-cluster', "use the pod's service account, whatever kubeconfig exists").hideHelp())
    .addOption(new Option('--progress-job <job>', "record progress in the ConfigMap named as this runner Job").hideHelp())
    .addOption(outputOption());
}

/** Exit 2 for flags that cannot go together. */
function checkFlags(flags: DeployFlags): void {
  if (flags.runner === 'cluster' && flags.sandbox) {
    throw new CliExit(EXIT_USAGE, 'error: --runner cluster starts a Job in the cluster of a kubeconfig, which outlives this command; it cannot be combined with --sandbox');
  }
  if (flags.runnerImage !== undefined && flags.runner !== 'cluster') throw new CliExit(EXIT_USAGE, 'error: --runner-image needs --runner cluster');
  if (flags.sandbox && (flags.kubeconfig !== undefined || flags.context !== undefined)) {
    throw new CliExit(EXIT_USAGE, 'error: --sandbox deploys into its own cluster; it cannot be combined with --kubeconfig or --context');
  }
}

/** A deploy as the flags ask for it: the project planned, the settings and secrets read, before any cluster is touched. */
interface DeployRequest {
  io: CliIo;
  flags: DeployFlags;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  runId: string;
  commitSha?: string;
  source: Pick<PlanOptions, 'codeSource' | 'repoSubdir'>;
  /** The engine's settings, the image pull secrets the plan has (the registry's among them) included. */
  settings: DeploySettings;
  /** The Secrets given with --secret and --secrets-file. */
  given: SecretInput[];
  /** The registry's Secret (--registry-server), to create with the given ones. */
  registrySecret?: SecretValues;
  /** In a sandbox: the Secrets its object store fills. */
  storeSecrets: string[];
  registries: ReturnType<typeof sandboxRegistries>;
}

/** `deploy`: plans, then runs the DAG here or starts the in-cluster runner; with --sandbox, in a sandbox it then keeps serving. */
async function deploy(io: CliIo, dir: string, flags: DeployFlags): Promise<void> {
  const r = await request(io, dir, flags);
  const interrupts = new Interrupts(io);
  const sandbox = flags.sandbox ? new DeploySandbox() : undefined;
  try {
    const kubeconfigContent = sandbox !== undefined ? await sandbox.start(io, r.logger, r.plan.namespace, r.registries) : undefined;
    const client = await clientFromFlags(flags, r.logger, kubeconfigContent);
    if (flags.runner === 'cluster') return await runInCluster(r, client, interrupts.signal);
    const result = await deployHere(r, client, interrupts, sandbox);
    report(r, result);
    if (interrupts.received !== undefined) throw new CliExit(SIGNAL_EXIT[interrupts.received] ?? EXIT_FAILURE);
    const code = result.status === 'success' ? EXIT_OK : EXIT_FAILURE;
    if (sandbox !== undefined) {
      const services = r.plan.steps.flatMap((s) => s.stages).filter((s): s is PlannedServiceStage => s.type === 'service');
      await sandbox.serve(io, r.plan.namespace, services, flags.output === 'json', interrupts.signal);
    }
    if (code !== EXIT_OK) throw new CliExit(code);
  } finally {
    interrupts.dispose();
    await sandbox?.stop();
  }
}

/** Reads the flags, the secrets and the project, and plans it; exit 2 for bad usage or a project that cannot deploy. */
async function request(io: CliIo, dir: string, flags: DeployFlags): Promise<DeployRequest> {
  const settings = settingsFromFlags(flags);
  checkFlags(flags);
  // Before anything is printed: from here on every message has the values redacted.
  const given = await secretsFromFlags(flags);
  const registry = registryFromFlags(flags);
  const registries = flags.sandbox ? sandboxRegistries() : [];
  const logger = stderrLogger(io, flags.verbose === true);
  const spec = await loadProjectOrExit(dir, io);
  const runId = flags.runId ?? newRunId();
  const commitSha = flags.commit ?? (await gitCommit(dir));
  const source = await codeSourceOptions(dir, flags, commitSha);
  const { stages } = settings;
  const plan = await planOrExit(spec, {
    ...source,
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.image !== undefined ? { image: flags.image } : {}),
    ...(flags.ingressClass !== undefined ? { ingressClass: flags.ingressClass } : {}),
    ...(stages !== undefined ? { stages } : {}),
    ...(commitSha !== undefined ? { commitSha } : {}),
    ...(registry.imagePullSecrets !== undefined ? { imagePullSecrets: registry.imagePullSecrets } : {}),
    runId,
  });
  const storeSecrets = await sandboxSecrets(io, dir, flags, plan, given);
  return {
    io,
    flags,
    logger,
    spec,
    plan,
    runId,
    ...(commitSha !== undefined ? { commitSha } : {}),
    source,
    settings: { ...settings, ...(registry.imagePullSecrets !== undefined ? { imagePullSecrets: registry.imagePullSecrets } : {}) },
    given,
    ...(registry.secret !== undefined ? { registrySecret: registry.secret } : {}),
    storeSecrets,
    registries,
  };
}

/**
 * With --sandbox: the Secrets the sandbox's object store fills (those holding only its keys: AWS_*, S3_BUCKET); exit 2
 * when the stages read other keys not given: a new sandbox has no Secrets, so the run could only fail.
 */
async function sandboxSecrets(io: CliIo, dir: string, flags: DeployFlags, plan: DeployPlan, given: SecretInput[]): Promise<string[]> {
  if (!flags.sandbox) return [];
  const { objectStoreSecretNames, withObjectStoreSecrets } = await import('../object-store.js');
  const storeSecrets = objectStoreSecretNames(plan, given);
  const placeholders = Object.fromEntries(OBJECT_STORE_KEYS.map((k) => [k, '']));
  const missing = missingSandboxSecrets(dir, plan, withObjectStoreSecrets(given, storeSecrets, placeholders));
  for (const line of missing.lines) io.stderr(`${line}\n`);
  if (missing.flags.length > 0) {
    throw new CliExit(EXIT_USAGE, `error: the sandbox has none of the project's Secrets; add ${missing.flags.join(' ')} (or put NAME.KEY=VALUE lines in a --secrets-file)`);
  }
  return storeSecrets;
}

/** SIGINT and SIGTERM while deploying: the first cancels the run (or, when serving, stops the sandbox); a second quits at once. */
class Interrupts {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  /** The first signal received. */
  received: NodeJS.Signals | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.received !== undefined) {
      this.io.stderr(`${signal} again: quitting without cleaning up\n`);
      process.exit(SIGNAL_EXIT[signal] ?? EXIT_FAILURE);
    }
    this.received = signal;
    this.io.stderr(`${signal}: stopping (press Ctrl-C again to quit at once)\n`);
    this.controller.abort(new Error(`interrupted (${signal})`));
  };

  constructor(private readonly io: CliIo) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** --runner cluster: starts the in-cluster runner (which outlives this command) and returns once its first step is under way. */
async function runInCluster(r: DeployRequest, client: KubeClient, signal: AbortSignal): Promise<void> {
  const { startInCluster } = await import('../runner.js');
  const { io, flags, logger, spec, plan, source, runId, commitSha, settings } = r;
  const started = { io, client, logger, spec, plan, source, runId, settings, secrets: secretsToWrite(r.given, r.registrySecret), json: flags.output === 'json', signal };
  await startInCluster({ ...started, ...(commitSha !== undefined ? { commitSha } : {}), ...(flags.runnerImage !== undefined ? { runnerImage: flags.runnerImage } : {}) });
}

/** The Secrets the run creates or updates under the lock: `given`, then the registry's. */
function secretsToWrite(given: SecretInput[], registrySecret: SecretValues | undefined): SecretValues[] {
  return [...given, ...(registrySecret !== undefined ? [registrySecret] : [])];
}

/**
 * Runs the DAG in this process (inside the runner's pod too, recording its progress with --progress-job), after
 * starting a sandbox's object store when its Secrets need it.
 */
async function deployHere(r: DeployRequest, client: KubeClient, interrupts: Interrupts, sandbox: DeploySandbox | undefined): Promise<DeployResult> {
  const { io, flags, logger, spec, plan, runId, settings } = r;
  const progress = flags.progressJob !== undefined ? await (await import('../runner.js')).progressRecorder(client, logger, { project: spec.name, namespace: plan.namespace, job: flags.progressJob, runId }) : undefined;
  const given = sandbox !== undefined && r.storeSecrets.length > 0 ? await sandbox.withObjectStore(io, client, r.given, r.storeSecrets, interrupts.signal) : r.given;
  const secrets = secretsToWrite(given, r.registrySecret);
  // Loaded here, not at start-up: the engine brings client-node (see scripts/build.mjs).
  const { deployProject } = await loadDeploy();
  if (interrupts.signal.aborted) throw new CliExit(SIGNAL_EXIT[interrupts.received ?? 'SIGINT'], 'interrupted before the deployment started');
  const result = await deployProject({
    client,
    logger,
    spec,
    plan,
    runId,
    signal: interrupts.signal,
    timeoutMs: settings.timeoutMs,
    prune: settings.prune,
    // Stage log lines, each once, on stderr with the messages (stdout is for the result).
    onLogLine: (_stage, line) => io.stderr(`${oneLine(line)}\n`),
    keepJobs: settings.keepJobs,
    lockTimeoutMs: settings.lockTimeoutMs,
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(progress !== undefined ? { onProgress: progress.onProgress } : {}),
  });
  await progress?.finish(result, interrupts.received !== undefined);
  return result;
}

/** The result on stdout (the table, or the JSON document), and on stderr the failed stages' last log lines and why it failed. */
function report(r: DeployRequest, result: DeployResult): void {
  const { io, flags, plan, runId } = r;
  if (flags.output === 'json') printJson(io, { ...result, runId });
  else io.stdout(resultTable(result, paint(io, 'stdout')).split('\n').map(neutralise).join('\n'));
  for (const s of result.stages.filter((x) => x.status !== 'succeeded' && x.status !== 'skipped')) {
    if (s.logTail && s.logTail.length > 0) io.stderr(`${oneLine(`last log lines of ${s.stage}:`)}\n${s.logTail.map((l) => `  ${oneLine(l)}`).join('\n')}\n`);
  }
  if (result.status === 'failure') io.stderr(`${oneLine(`deployment failed${result.reason ? `: ${result.reason}` : ''}`)}\n`);
  if (result.status === 'failure' && /missing secret/.test(result.reason ?? '')) {
    io.stderr(`give the values with --secret NAME.KEY=VALUE or --secrets-file FILE, or create the Secret first: bodywork-deploy secret create NAME KEY=VALUE -n ${plan.namespace}\n`);
  }
}
