/**
 * `bodywork-deploy deploy [DIR]`: deploys a project to a cluster (or, with --sandbox, to an embedded sandbox that
 * keeps serving until Ctrl-C). Progress and stage logs (`[stage] ...`) go to stderr as they happen; the final table
 * of stages (or, with `-o json`, the DeployResult as one JSON document) goes to stdout. Exit 0: every stage succeeded; 1: the deployment failed; 2: bad usage or project
 * (nothing written to the cluster); 130/143: interrupted (SIGINT/SIGTERM; running stages cancelled, Jobs deleted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { loadDeploy, formatDuration, DEFAULT_KEEP_JOBS, DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT, neutralise, newRunId, type DeployResult, type PlannedServiceStage } from '../../engine/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { OBJECT_STORE, OBJECT_STORE_KEYS } from '../../sandbox/object-store.js';
import { type ClusterFlags, type CodeSourceFlags, clientFromFlags, codeSourceOptions, gitCommit, outputOption, planOrExit, withClusterOptions, renderTable } from '../cluster.js';
import { CliExit, type CliIo, collect, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine, paint, printJson, stderrLogger } from '../io.js';
import { type Paint, statusStyle } from '../style.js';
import { loadProjectOrExit } from '../project.js';
import { settingsFromFlags } from '../settings.js';
import { missingSandboxSecrets, type SecretFlags, secretsFromFlags } from '../secrets.js';
import { type RegistryFlags, registryFromFlags, sandboxRegistries, withRegistryOptions } from '../registry.js';

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
  withClusterOptions(command, 'target namespace (default: the project namespace, else the project name)')
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
  withRegistryOptions(command, true)
    .action(async (dir: string, flags: DeployFlags) => {
      const settings = settingsFromFlags(flags);
      const { timeoutMs, lockTimeoutMs, keepJobs, stages } = settings;
      if (flags.runner === 'cluster' && flags.sandbox) {
        throw new CliExit(EXIT_USAGE, 'error: --runner cluster starts a Job in the cluster of a kubeconfig, which outlives this command; it cannot be combined with --sandbox');
      }
      if (flags.runnerImage !== undefined && flags.runner !== 'cluster') throw new CliExit(EXIT_USAGE, 'error: --runner-image needs --runner cluster');
      if (flags.sandbox && (flags.kubeconfig !== undefined || flags.context !== undefined)) {
        throw new CliExit(EXIT_USAGE, 'error: --sandbox deploys into its own cluster; it cannot be combined with --kubeconfig or --context');
      }
      // Before anything is printed: from here on every message has the values redacted.
      let secrets = await secretsFromFlags(flags);
      const registry = registryFromFlags(flags);
      const registries = flags.sandbox ? sandboxRegistries() : [];
      const logger = stderrLogger(io, flags.verbose === true);
      const spec = await loadProjectOrExit(dir, io);
      const runId = flags.runId ?? newRunId();
      const commitSha = flags.commit ?? (await gitCommit(dir));
      const source = await codeSourceOptions(dir, flags, commitSha);
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
      // A new sandbox has no Secrets: every key the stages read must be given, or the run could only fail. Secrets
      // holding only object-store keys (AWS_*, S3_BUCKET) the sandbox's own object store fills.
      const { objectStoreSecretNames, withObjectStoreSecrets } = await import('../object-store.js');
      const storeSecrets = flags.sandbox ? objectStoreSecretNames(plan, secrets) : [];
      if (flags.sandbox) {
        const placeholders = Object.fromEntries(OBJECT_STORE_KEYS.map((k) => [k, '']));
        const missing = missingSandboxSecrets(dir, plan, withObjectStoreSecrets(secrets, storeSecrets, placeholders));
        for (const line of missing.lines) io.stderr(`${line}\n`);
        if (missing.flags.length > 0) {
          throw new CliExit(EXIT_USAGE, `error: the sandbox has none of the project's Secrets; add ${missing.flags.join(' ')} (or put NAME.KEY=VALUE lines in a --secrets-file)`);
        }
      }

      // Interrupts: the first cancels the run (or, when serving, stops the sandbox); a second quits at once.
      const interrupted = new AbortController();
      let received: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (received !== undefined) {
          io.stderr(`${signal} again: quitting without cleaning up\n`);
          process.exit(SIGNAL_EXIT[signal] ?? EXIT_FAILURE);
        }
        received = signal;
        io.stderr(`${signal}: stopping (press Ctrl-C again to quit at once)\n`);
        interrupted.abort(new Error(`interrupted (${signal})`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      let sandbox: Sandbox | undefined;
      let tempDir: string | undefined;
      try {
        let kubeconfigContent: string | undefined;
        let kubeconfigPath: string | undefined;
        if (flags.sandbox) {
          tempDir = mkdtempSync(join(tmpdir(), 'bodywork-deploy-'));
          kubeconfigPath = join(tempDir, 'kubeconfig');
          const { persistentCacheDir, startSandbox } = await import('../../sandbox/index.js');
          const cacheDir = persistentCacheDir();
          sandbox = await startSandbox({
            kubeconfigPath,
            namespace: plan.namespace,
            warn: (m) => logger.debug(m),
            ...(cacheDir ? { python: { cacheDir } } : {}),
            ...(registries.length > 0 ? { kubelet: { registries } } : {}),
          });
          kubeconfigContent = sandbox.kubeconfig;
          const net = sandbox.network;
          const note = net.mode === 'host' ? ` (pods on the host network: ${net.reason ?? 'no isolation available'})` : net.rootless ? ' (pods in rootless namespaces: not running as root)' : '';
          io.stderr(`sandbox running at ${sandbox.url}${note}\n`);
          io.stderr(`kubeconfig: ${kubeconfigPath} (try: kubectl --kubeconfig ${kubeconfigPath} get pods -n ${plan.namespace})\n`);
        }
        const client = await clientFromFlags(flags, logger, kubeconfigContent);
        if (flags.runner === 'cluster') {
          const { startInCluster } = await import('../runner.js');
          return await startInCluster({
            io,
            client,
            logger,
            spec,
            plan,
            source,
            runId,
            json: flags.output === 'json',
            signal: interrupted.signal,
            secrets: [...secrets, ...(registry.secret !== undefined ? [registry.secret] : [])],
            ...(flags.runnerImage !== undefined ? { runnerImage: flags.runnerImage } : {}),
            settings: { ...settings, ...(registry.imagePullSecrets !== undefined ? { imagePullSecrets: registry.imagePullSecrets } : {}) },
            ...(commitSha !== undefined ? { commitSha } : {}),
          });
        }
        const progress = flags.progressJob !== undefined ? await (await import('../runner.js')).progressRecorder(client, logger, { project: spec.name, namespace: plan.namespace, job: flags.progressJob, runId }) : undefined;
        if (sandbox !== undefined && storeSecrets.length > 0) {
          const sb = sandbox;
          const { startObjectStore } = await import('../object-store.js');
          io.stderr(`starting the sandbox's object store for Secret ${storeSecrets.join(', ')} (S3-compatible, moto; its first start installs moto from PyPI)\n`);
          const store = await startObjectStore(client, { isolated: sb.network.mode === 'isolated', loadImage: (i, r, o) => sb.loadImage(i, r, o), serviceUrl: (n, o) => sb.serviceUrl(n, o) }, { signal: interrupted.signal });
          secrets = withObjectStoreSecrets(secrets, storeSecrets, store.data);
          io.stderr(`object store: ${store.hostUrl} from this machine, ${store.endpoint} from pods, bucket ${store.bucket} (${OBJECT_STORE.namespace}/${OBJECT_STORE.name})\n`);
        }
        // Loaded here, not at start-up: the engine brings client-node (see scripts/build.mjs).
        const { deployProject } = await loadDeploy();
        if (interrupted.signal.aborted) throw new CliExit(SIGNAL_EXIT[received ?? 'SIGINT'], 'interrupted before the deployment started');
        const result = await deployProject({
          client,
          logger,
          spec,
          plan,
          runId,
          signal: interrupted.signal,
          timeoutMs,
          prune: flags.prune,
          // Stage log lines, each once, on stderr with the messages (stdout is for the result).
          onLogLine: (_stage, line) => io.stderr(`${oneLine(line)}\n`),
          keepJobs,
          lockTimeoutMs,
          ...(secrets.length > 0 || registry.secret !== undefined ? { secrets: [...secrets, ...(registry.secret !== undefined ? [registry.secret] : [])] } : {}),
          ...(progress !== undefined ? { onProgress: progress.onProgress } : {}),
        });
        await progress?.finish(result, received !== undefined);
        if (flags.output === 'json') printJson(io, { ...result, runId });
        else io.stdout(resultTable(result, paint(io, 'stdout')).split('\n').map(neutralise).join('\n'));
        for (const s of result.stages.filter((x) => x.status !== 'succeeded' && x.status !== 'skipped')) {
          if (s.logTail && s.logTail.length > 0) io.stderr(`${oneLine(`last log lines of ${s.stage}:`)}\n${s.logTail.map((l) => `  ${oneLine(l)}`).join('\n')}\n`);
        }
        if (result.status === 'failure') io.stderr(`${oneLine(`deployment failed${result.reason ? `: ${result.reason}` : ''}`)}\n`);
        if (result.status === 'failure' && /missing secret/.test(result.reason ?? '')) {
          io.stderr(`give the values with --secret NAME.KEY=VALUE or --secrets-file FILE, or create the Secret first: bodywork-deploy secret create NAME KEY=VALUE -n ${plan.namespace}\n`);
        }
        if (received !== undefined) throw new CliExit(SIGNAL_EXIT[received] ?? EXIT_FAILURE);
        const code = result.status === 'success' ? EXIT_OK : EXIT_FAILURE;

        if (sandbox !== undefined && kubeconfigPath !== undefined) {
          const services = plan.steps.flatMap((s) => s.stages).filter((s): s is PlannedServiceStage => s.type === 'service');
          await printServiceAccess(io, sandbox, kubeconfigPath, plan.namespace, services, flags.output === 'json');
          io.stderr('the sandbox keeps serving; stop it with Ctrl-C\n');
          await new Promise<void>((resolve) => {
            if (interrupted.signal.aborted) resolve();
            else interrupted.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          io.stderr('stopping the sandbox\n');
        }
        if (code !== EXIT_OK) throw new CliExit(code);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (sandbox !== undefined) await sandbox.stop();
        if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
      }
    });
}

/**
 * For each service: its host URL in the sandbox (stdout, or stderr when stdout holds the JSON document) and the
 * tutorial's way through `kubectl proxy`.
 */
async function printServiceAccess(io: CliIo, sandbox: Sandbox, kubeconfigPath: string, namespace: string, services: PlannedServiceStage[], json: boolean): Promise<void> {
  if (services.length === 0) return;
  io.stderr(`services (reach them through kubectl proxy: kubectl --kubeconfig ${kubeconfigPath} proxy --port 8001):\n`);
  for (const s of services) {
    const name = s.service.metadata?.name ?? s.baseName;
    const url = await sandbox.serviceUrl(name, { namespace });
    const line = `${s.stage}: ${url ?? '(no endpoint yet)'}\n`;
    if (json) io.stderr(line);
    else io.stdout(line);
    io.stderr(`  ${s.stage}: curl http://localhost:8001/api/v1/namespaces/${namespace}/services/${name}/proxy/<path>${url ? ` (or directly: ${url}/<path>)` : ''}\n`);
  }
}
