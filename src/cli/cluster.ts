/**
 * Shared by the commands that talk to a cluster: flags -> client, the plan of a project, durations, tables.
 * The client (client-node) is imported when a command asks for one, so commands that never talk to a cluster
 * (`--version`, `validate`, `plan`) start without loading it (see scripts/build.mjs).
 */
import { execFile } from 'node:child_process';
import { type Command, Option } from 'commander';
import { loadKube, BundleError, PlanError, bundleProject, planProject, type ProjectSpec, type KubeClient, type Logger, type CodeSource, type DeployPlan, type PlanOptions } from '../engine/index.js';
import { CliExit, EXIT_USAGE, stderrLogger, type CliIo } from './io.js';
import { loadProjectOrExit } from './project.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  /** Only the pod's service account (the in-cluster runner). */
  inCluster?: boolean;
}

/** The flags every command that talks to a cluster takes: `--kubeconfig`, `--context`, `-n`, `-v`. */
export function withClusterOptions(command: Command, namespaceHelp = 'namespace (default: the project namespace, else the project name)'): Command {
  return command
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option('-n, --namespace <ns>', namespaceHelp)
    .option('-v, --verbose', 'print every API request');
}

/** A client for the kubeconfig the flags (or KUBECONFIG, ~/.kube/config) name; a bad kubeconfig ends the command with exit 2. */
export async function clientFromFlags(flags: ClusterFlags, logger: Logger, content?: string): Promise<KubeClient> {
  const { KubeClient, KubeConfigError, loadKubeConfig } = await loadKube();
  try {
    const loaded = loadKubeConfig({
      ...(content !== undefined ? { content } : {}),
      ...(flags.kubeconfig !== undefined ? { path: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
      ...(flags.inCluster === true ? { inCluster: true } : {}),
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

function gitOutput(dir: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: dir, timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : stdout.trim()));
  });
}

export interface CodeSourceFlags {
  codeSource?: string;
  gitUrl?: string;
  gitTokenSecret?: string;
  gitSubdir?: string;
}

/**
 * The plan options of `--code-source`: nothing for `bundle`; for `git` the repository URL (`--git-url`, else the
 * `origin` remote of `dir`), the commit (`commit`, else `git rev-parse HEAD` in `dir`), the token Secret, and the
 * project's directory in the repository (`--git-subdir`, else `git rev-parse --show-prefix`). Bad or missing values
 * end the command with exit 2.
 */
export async function codeSourceOptions(dir: string, flags: CodeSourceFlags, commit?: string): Promise<Pick<PlanOptions, 'codeSource' | 'repoSubdir'>> {
  const type = flags.codeSource ?? 'bundle';
  if (type !== 'bundle' && type !== 'git') throw new CliExit(EXIT_USAGE, `error: --code-source must be bundle or git, got '${type}'`);
  if (type === 'bundle') {
    if (flags.gitUrl !== undefined || flags.gitTokenSecret !== undefined || flags.gitSubdir !== undefined) throw new CliExit(EXIT_USAGE, 'error: --git-url, --git-token-secret and --git-subdir need --code-source git');
    return {};
  }
  const url = flags.gitUrl ?? (await gitOutput(dir, ['remote', 'get-url', 'origin']));
  if (url === undefined || url === '') throw new CliExit(EXIT_USAGE, `error: --code-source git needs --git-url: ${dir} has no 'origin' remote`);
  const sha = commit ?? (await gitCommit(dir));
  if (sha === undefined) throw new CliExit(EXIT_USAGE, `error: --code-source git needs the commit to deploy: ${dir} is not in a git checkout`);
  const prefix = flags.gitSubdir ?? (await gitOutput(dir, ['rev-parse', '--show-prefix'])) ?? '';
  const codeSource: CodeSource = { type: 'git', url, commit: sha.toLowerCase(), ...(flags.gitTokenSecret !== undefined ? { tokenSecret: flags.gitTokenSecret } : {}) };
  return { codeSource, ...(prefix !== '' ? { repoSubdir: prefix } : {}) };
}

/** Bundles and plans; bad options or an unshippable project end the command with exit 2. */
export async function planOrExit(spec: ProjectSpec, options: PlanOptions = {}, bundle = true, debug?: (message: string) => void): Promise<DeployPlan> {
  try {
    const bundled = bundle && options.codeSource?.type !== 'git';
    return planProject(spec, { ...options, ...(bundled ? { codeBundle: await bundleProject(spec, debug) } : {}) });
  } catch (error) {
    if (error instanceof PlanError || error instanceof BundleError) throw new CliExit(EXIT_USAGE, `error: ${error.message}`);
    throw error;
  }
}


/**
 * Rows as aligned columns (two spaces apart), the first row being the header. `style` may colour a cell: the
 * padding is computed from the plain text, so colour codes do not shift the columns.
 */
export function renderTable(rows: string[][], style: (cell: string, row: number, column: number) => string = (c) => c): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r, ri) =>
        r
          .map((c, i) => {
            const pad = i === r.length - 1 ? '' : ' '.repeat(widths[i] - c.length);
            return c === '' ? pad : style(c, ri, i) + pad;
          })
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** The `-o, --output <format>` option: `text` (default) or `json` (one JSON document on stdout, messages on stderr). */
export function outputOption(formats: string[] = ['text', 'json']): Option {
  return new Option('-o, --output <format>', `output format: ${formats.join(' or ')}`).choices(formats).default(formats[0]);
}

/**
 * Where status, cancel, teardown and schedule start: the logger `-v` asks for, the project at `dir`, its plan in the
 * flags' namespace (no code bundle: they read or remove, or ship the code themselves), and a client.
 */
export async function projectOnCluster(
  dir: string,
  flags: ClusterFlags & { namespace?: string; verbose?: boolean },
  io: CliIo,
  options: PlanOptions = {},
): Promise<{ logger: Logger; spec: ProjectSpec; plan: DeployPlan; client: KubeClient }> {
  const logger = stderrLogger(io, flags.verbose === true);
  const spec = await loadProjectOrExit(dir, io);
  const plan = await planOrExit(spec, { ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}), ...options }, false);
  return { logger, spec, plan, client: await clientFromFlags(flags, logger) };
}
