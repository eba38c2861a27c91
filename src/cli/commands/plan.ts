/**
 * `bodywork-deploy plan [DIR]`: the Kubernetes objects a deployment would apply, as a YAML stream on stdout, or with
 * `-o json` as one JSON document: the DAG's steps and stages, and the objects. With `--server`, the objects are
 * dry-run by the cluster's API server instead (engine/deploy/dry-run.ts): stdout gets its verdict per object and a
 * diff against what is deployed, and the command fails (exit 1) when the server refuses anything.
 */
import type { Command } from 'commander';
import { newRunId, loadDryRun, problemsLine, renderDiff, renderObjectLines, verdictLine, BundleError, PlanError, bundleProject, displayObjects, planObjects, planProject, loadPlanYaml, redact, safeLines, type DeployPlan, type PlannedObject, type ServerCheckResult } from '../../engine/index.js';
import { type ClusterFlags, type CodeSourceFlags, clientFromFlags, codeSourceOptions, outputOption } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_USAGE, collect, oneLine, paint, plural, printJson, stderrLogger } from '../io.js';
import { loadProjectOrExit } from '../project.js';
import { withRegistryOptions } from '../registry.js';
import { type SecretFlags, secretsFromFlags } from '../secrets.js';

interface PlanFlags extends CodeSourceFlags, ClusterFlags, SecretFlags {
  server?: boolean;
  verbose?: boolean;
  imagePullSecret?: string[];
  namespace?: string;
  image?: string;
  commit?: string;
  runId?: string;
  ingressClass?: string;
  showCode?: boolean;
  output: 'yaml' | 'json';
}

/** `plan -o json`: what a deploy would run and apply. */
export interface PlanDocument {
  project: string;
  namespace: string;
  image: string;
  steps: { step: number; stages: { stage: string; type: 'batch' | 'service'; objects: string[]; url?: string }[] }[];
  /** The run_on_failure stage, when the project has one. */
  onFailure?: { stage: string; objects: string[] };
  /** The pod overrides file, when the project has one, and what it sets in each stage's pod. */
  overrides?: DeployPlan['overrides'];
  /** Every object in apply order (set-up, then step by step), as the YAML stream prints them. */
  objects: PlannedObject[];
  /** With `--server`: what the API server said about each object, and the diffs. */
  server?: ServerCheckResult;
}

function planDocument(plan: DeployPlan, codeContents: boolean): PlanDocument {
  const ref = (o: PlannedObject) => `${o.kind}/${o.metadata?.name}`;
  return {
    project: plan.project,
    namespace: plan.namespace,
    image: plan.image,
    steps: plan.steps.map((s) => ({
      step: s.index,
      stages: s.stages.map((st) => ({ stage: st.stage, type: st.type, objects: st.objects.map(ref), ...(st.type === 'service' ? { url: st.url } : {}) })),
    })),
    ...(plan.onFailure ? { onFailure: { stage: plan.onFailure.stage, objects: plan.onFailure.objects.map(ref) } } : {}),
    ...(plan.overrides ? { overrides: plan.overrides } : {}),
    objects: displayObjects(plan, { codeContents }),
  };
}

/** What the pod overrides file sets, a line per overridden stage (for stderr). */
export function overrideLines(plan: DeployPlan): string[] {
  const o = plan.overrides;
  if (o === undefined) return [];
  if (o.stages.length === 0) return [`pod overrides: ${o.file} overrides no planned stage`];
  return [
    `pod overrides from ${o.file} (strategic merge, defaults first):`,
    ...o.stages.map((s) => `  ${s.stage} (${s.from.map((f) => (f === 'stage' ? 'its own entry' : 'defaults')).join(' + ')}): ${s.sets.join(', ')}`),
  ];
}

export function registerPlan(program: Command, io: CliIo): void {
  const command = program
    .command('plan')
    .description('print the Kubernetes objects that deploying the project would apply, as a YAML stream (messages go to stderr)')
    .argument('[dir]', 'project directory', '.')
    .option('-n, --namespace <ns>', 'target namespace (default: the project namespace, else the project name)')
    .option('--image <image>', "image for every stage, instead of the project's")
    .option('--commit <sha>', 'git commit being deployed (GIT_COMMIT_HASH, labels and annotations)')
    .option('--run-id <id>', 'id of a deployment run: Jobs named <name>-<id> as deploy --run-id <id> creates them, pod annotation')
    .option('--ingress-class <class>', "ingressClassName of service stages with an ingress (default: none in the plan; deploy sets the cluster's default IngressClass, else nginx)")
    .option('--code-source <source>', 'how stages get the code: bundle (ConfigMaps, default) or git (clone the commit)', 'bundle')
    .option('--git-url <url>', "with --code-source git: the repository to clone (default: DIR's origin remote)")
    .option('--git-token-secret <name>', "with --code-source git: a Secret in the namespace whose 'token' key authenticates the clone")
    .option('--git-subdir <path>', "with --code-source git: the project's directory in the repository (default: DIR's path in its checkout)")
    .option('--show-code', "print the project files in the code ConfigMaps (for kubectl apply); by default each is shown by its size and sha256 only")
    .option('--server', "dry-run every object on the cluster's API server (dryRun=All: schema, admission, quotas, Pod Security, RBAC) and print each one's verdict and a diff against what is deployed; exit 1 when the server refuses any")
    .option('--kubeconfig <file>', 'with --server: kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'with --server: kubeconfig context (default: its current-context)')
    .option('--secret <NAME.KEY=VALUE>', 'with --server: a Secret deploy --secret would apply, checked too (repeatable; values are never printed)', collect)
    .option('--secrets-file <file>', "with --server: the same from a file (the action's secrets input format)")
    .option('-v, --verbose', 'with --server: print every API request')
    .addOption(outputOption(['yaml', 'json']));
  withRegistryOptions(command, false).action(async (dir: string, flags: PlanFlags) => {
      const spec = await loadProjectOrExit(dir, io);
      const source = await codeSourceOptions(dir, flags, flags.commit);
      const withServer = flags.server === true;
      if (!withServer && [flags.kubeconfig, flags.context, flags.secret, flags.secretsFile].some((f) => f !== undefined)) {
        throw new CliExit(EXIT_USAGE, 'error: --kubeconfig, --context, --secret and --secrets-file are for plan --server');
      }
      const secrets = withServer ? await secretsFromFlags(flags) : [];
      try {
        const codeBundle = source.codeSource === undefined ? await bundleProject(spec) : undefined;
        const plan = planProject(spec, {
          ...source,
          ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
          ...(flags.image !== undefined ? { image: flags.image } : {}),
          ...(flags.commit !== undefined ? { commitSha: flags.commit } : {}),
          // The server sees the Jobs a deploy would create, named per run: a new run id unless one is given.
          ...(flags.runId !== undefined ? { runId: flags.runId } : withServer ? { runId: newRunId() } : {}),
          ...(flags.ingressClass !== undefined ? { ingressClass: flags.ingressClass } : {}),
          ...(codeBundle !== undefined ? { codeBundle } : {}),
          ...(flags.imagePullSecret !== undefined ? { imagePullSecrets: flags.imagePullSecret } : {}),
        });
        if (withServer) {
          for (const line of overrideLines(plan)) io.stderr(`${oneLine(line)}\n`);
          return await serverCheck(io, flags, plan, secrets);
        }
        if (flags.output === 'json') printJson(io, planDocument(plan, flags.showCode === true));
        else io.stdout((await loadPlanYaml()).renderPlanYaml(plan, { codeContents: flags.showCode === true }));
        const stages = plan.steps.reduce((n, step) => n + step.stages.length, 0);
        io.stderr(
          `planned ${plural(stages, 'stage')} in ${plural(plan.steps.length, 'step')} into namespace ${plan.namespace}: ` +
            `${plural(planObjects(plan).length, 'object')}, ` +
            (codeBundle !== undefined
              ? `code ${codeBundle.hash.slice(0, 10)} (${plural(codeBundle.files.length, 'file')})\n`
              : `code cloned from git at ${source.codeSource?.type === 'git' ? source.codeSource.commit.slice(0, 10) : ''}\n`),
        );
        for (const line of overrideLines(plan)) io.stderr(`${oneLine(line)}\n`);
      } catch (error) {
        if (error instanceof PlanError || error instanceof BundleError) throw new CliExit(EXIT_USAGE, `error: ${error.message}`);
        throw error;
      }
    });
}

/** `plan --server`: the dry run on the cluster, its verdict per object and the diffs on stdout; exit 1 on any refusal. */
async function serverCheck(io: CliIo, flags: PlanFlags, plan: DeployPlan, secrets: Awaited<ReturnType<typeof secretsFromFlags>>): Promise<void> {
  const logger = stderrLogger(io, flags.verbose === true);
  const client = await clientFromFlags(flags, logger);
  const { checkOnServer } = await loadDryRun();
  const result = await checkOnServer({ client, logger, plan, secrets });
  // Cluster text (server messages, labels, annotations) goes out line by line, redacted and neutralised for CI runners.
  const safe = (text: string) => safeLines(redact(text)).join('\n');
  if (flags.output === 'json') printJson(io, { ...planDocument(plan, false), server: result });
  else {
    const p = paint(io, 'stdout');
    const lines = renderObjectLines(result).map((l) => (l.startsWith('refused') || l.startsWith('missing') ? p('red', safe(l)) : safe(l)));
    const diff = renderDiff(result);
    io.stdout(`${lines.join('\n')}\n${diff === '' ? '' : `\n${safe(diff)}\n`}`);
  }
  for (const o of result.refused) io.stderr(`${paint(io, 'stderr')('red', 'error:')} ${safe(`the API server refuses ${o.object}: ${o.message ?? ''}`).replace(/\n/g, '\\n')}\n`);
  for (const m of result.missingSecrets) io.stderr(`${paint(io, 'stderr')('red', 'error:')} ${safe(`${m.usedBy}: ${m.message}`).replace(/\n/g, '\\n')}\n`);
  io.stderr(`${safe(verdictLine(result))}\n`);
  if (!result.ok) throw new CliExit(EXIT_FAILURE, safe(`error: plan --server: ${problemsLine(result)}`).replace(/\n/g, '\\n'));
}
