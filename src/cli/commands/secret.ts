/**
 * `bodywork-deploy secret create|list|delete`: the Kubernetes Secrets a project's stages read (`[secrets]` in a stage's
 * config.ini, `secrets:` in bodywork.yaml), as Bodywork's `bodywork secret create --namespace NS --name N --data K=V`
 * managed them (bodywork-behaviour.md §3.1, §2.7), in the namespace the project deploys to. Values are validated by
 * the same parser as the action's `secrets` input and `deploy --secret`, and never printed: `list` shows names and
 * keys only. `create` and `delete` wait for the namespace's deploy lock, so a running deploy's stages never see a
 * Secret change under them. The namespace must exist (Bodywork's `setup-namespace` came first too); for a project's
 * first deploy, `deploy --secret` or `--secrets-file` creates the Secrets after the namespace.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadLock, applySecretValues, parseDuration, LABEL_MANAGED_BY, MANAGED_BY, quoteValue, isDns1123Label, isDns1123Subdomain, DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT_MS, errorMessage, type KubeClient, type Logger } from '../../engine/index.js';
import { type ClusterFlags, clientFromFlags, renderTable } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_USAGE, oneLine, stderrLogger } from '../io.js';
import { parseSecretArgs } from '../secrets.js';

interface SecretCommandFlags extends ClusterFlags {
  namespace: string;
  verbose?: boolean;
  lockTimeout?: string;
  data?: string[];
}

/** The cluster flags, and `-n` (required: a Secret lives in the namespace its stages run in). */
function secretOptions(command: Command, lock: boolean): Command {
  command
    .requiredOption('-n, --namespace <ns>', "the project's namespace (deploy's: the project namespace, else the project name)")
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option('-v, --verbose', 'print every API request');
  if (lock) command.option('--lock-timeout <duration>', "how long to wait for a running deploy's lock on the namespace: 10m, 90s", DEFAULT_LOCK_TIMEOUT);
  return command;
}

/** Ends the command with exit 1 when the namespace does not exist (Bodywork's `namespace=NS could not be found`). */
async function requireNamespace(client: KubeClient, ns: string): Promise<void> {
  if (!isDns1123Label(ns)) throw new CliExit(EXIT_USAGE, `error: -n ${oneLine(ns)} is not a Kubernetes namespace name`);
  if (!(await client.exists('Namespace', undefined, ns))) {
    throw new CliExit(
      EXIT_FAILURE,
      `error: namespace=${ns} could not be found on the cluster; deploy the project once with its secrets (deploy --secret NAME.KEY=VALUE or --secrets-file FILE), or create the namespace first`,
    );
  }
}

/** Runs `fn` holding the namespace's deploy lock (waiting for a running deploy, up to --lock-timeout). */
async function underLock(client: KubeClient, logger: Logger, ns: string, flags: SecretCommandFlags, fn: () => Promise<void>): Promise<void> {
  // The lock (and the client it brings) is loaded when a command takes it, not at start-up (see scripts/build.mjs).
  const { acquireLock, defaultHolder } = await loadLock();
  const timeoutMs = flags.lockTimeout !== undefined ? parseDuration(flags.lockTimeout) : DEFAULT_LOCK_TIMEOUT_MS;
  if (timeoutMs === undefined) throw new CliExit(EXIT_USAGE, `error: --lock-timeout must be a duration such as 10m or 90s, got '${oneLine(flags.lockTimeout ?? '')}'`);
  const lock = await acquireLock({ client, logger, namespace: ns, holder: defaultHolder('secret'), timeoutMs });
  try {
    await fn();
  } finally {
    await lock.release();
  }
}

/** API and lock failures end the command with exit 1 and the reason. */
async function clusterCall(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof CliExit) throw error;
    throw new CliExit(EXIT_FAILURE, `error: ${oneLine(errorMessage(error))}`);
  }
}

export function registerSecret(program: Command, io: CliIo): void {
  const secret = program.command('secret').description("manage the Kubernetes Secrets a project's stages read (values are never printed)");

  secretOptions(
    secret
      .command('create')
      .description('create or replace Secret NAME with the KEY=VALUE pairs given (as Bodywork\'s secret create --name NAME --data KEY=VALUE ...)')
      .argument('<name>', 'the Secret name, as a stage names it ([secrets] VAR=name in config.ini, secrets: {VAR: name} in bodywork.yaml)')
      .argument('[pairs...]', 'KEY=VALUE pairs; KEY is the environment variable the stage reads')
      .option('--data <pairs...>', "KEY=VALUE pairs, Bodywork's spelling"),
    true,
  ).action(async (name: string, pairs: string[], flags: SecretCommandFlags) => {
    const all = [...pairs, ...(flags.data ?? [])];
    // Before anything is printed: the values are redacted from here on.
    const [parsed] = parseSecretArgs(all.map((text, i) => ({ text, secret: name, where: `pair #${i + 1}` })));
    if (parsed === undefined) throw new CliExit(EXIT_USAGE, 'error: give at least one KEY=VALUE pair: bodywork-deploy secret create NAME KEY=VALUE ... -n NAMESPACE');
    const logger = stderrLogger(io, flags.verbose === true);
    const client = await clientFromFlags(flags, logger);
    const ns = flags.namespace;
    await clusterCall(async () => {
      await requireNamespace(client, ns);
      await underLock(client, logger, ns, flags, () => applySecretValues({ client, logger, namespace: ns, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } }, [parsed]));
    });
    io.stdout(`secret=${parsed.name} created in namespace=${ns} (keys: ${Object.keys(parsed.data).sort().join(', ')})\n`);
  });

  secretOptions(secret.command('list').description('list the Secrets of the namespace with their keys (never their values)'), false).action(async (flags: SecretCommandFlags) => {
    const logger = stderrLogger(io, flags.verbose === true);
    const client = await clientFromFlags(flags, logger);
    const ns = flags.namespace;
    await clusterCall(async () => {
      await requireNamespace(client, ns);
      const { items } = await client.list<V1Secret>('Secret', ns);
      const rows = [['NAME', 'KEYS', 'CREATED BY']];
      for (const s of items.filter((x) => x.type === undefined || x.type === 'Opaque').sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
        const keys = Object.keys({ ...s.data, ...s.stringData }).sort();
        rows.push([oneLine(s.metadata?.name ?? ''), oneLine(keys.join(',')) || '-', s.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY ? MANAGED_BY : '-']);
      }
      if (rows.length === 1) io.stderr(`no secrets in namespace=${ns}\n`);
      else io.stdout(renderTable(rows));
    });
  });

  secretOptions(secret.command('delete').description('delete Secret NAME from the namespace').argument('<name>', 'the Secret name'), true).action(
    async (name: string, flags: SecretCommandFlags) => {
      const logger = stderrLogger(io, flags.verbose === true);
      const client = await clientFromFlags(flags, logger);
      const ns = flags.namespace;
      if (!isDns1123Subdomain(name)) throw new CliExit(EXIT_USAGE, `error: ${quoteValue(name)} is not a Kubernetes Secret name`);
      let deleted = false;
      await clusterCall(async () => {
        await requireNamespace(client, ns);
        await underLock(client, logger, ns, flags, async () => {
          deleted = await client.delete('Secret', ns, name);
        });
      });
      if (!deleted) throw new CliExit(EXIT_FAILURE, `secret=${oneLine(name)} could not be found in namespace=${ns}`);
      io.stdout(`secret=${name} deleted from namespace=${ns}\n`);
    },
  );
}
