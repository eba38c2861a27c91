/**
 * `bodywork-deploy plan [DIR]`: the Kubernetes objects a deployment would apply, as a YAML stream on stdout, or with
 * `-o json` as one JSON document: the DAG's steps and stages, and the objects.
 */
import type { Command } from 'commander';
import { BundleError, PlanError, bundleProject, displayObjects, planObjects, planProject, renderPlanYaml, type DeployPlan, type PlannedObject } from '../../engine/plan/index.js';
import { type CodeSourceFlags, codeSourceOptions, outputOption } from '../cluster.js';
import { CliExit, type CliIo, EXIT_USAGE, plural, printJson } from '../io.js';
import { loadProjectOrExit } from '../project.js';
import { withRegistryOptions } from '../registry.js';

interface PlanFlags extends CodeSourceFlags {
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
  /** Every object in apply order (set-up, then step by step), as the YAML stream prints them. */
  objects: PlannedObject[];
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
    objects: displayObjects(plan, { codeContents }),
  };
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
    .option('--show-code', "print the project files in the code ConfigMaps (for kubectl apply); by default each is shown by its size and sha256 only")
    .addOption(outputOption(['yaml', 'json']));
  withRegistryOptions(command, false).action(async (dir: string, flags: PlanFlags) => {
      const spec = await loadProjectOrExit(dir, io);
      const source = await codeSourceOptions(dir, flags, flags.commit);
      try {
        const codeBundle = source.codeSource === undefined ? await bundleProject(spec) : undefined;
        const plan = planProject(spec, {
          ...source,
          ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
          ...(flags.image !== undefined ? { image: flags.image } : {}),
          ...(flags.commit !== undefined ? { commitSha: flags.commit } : {}),
          ...(flags.runId !== undefined ? { runId: flags.runId } : {}),
          ...(flags.ingressClass !== undefined ? { ingressClass: flags.ingressClass } : {}),
          ...(codeBundle !== undefined ? { codeBundle } : {}),
          ...(flags.imagePullSecret !== undefined ? { imagePullSecrets: flags.imagePullSecret } : {}),
        });
        if (flags.output === 'json') printJson(io, planDocument(plan, flags.showCode === true));
        else io.stdout(renderPlanYaml(plan, { codeContents: flags.showCode === true }));
        const stages = plan.steps.reduce((n, step) => n + step.stages.length, 0);
        io.stderr(
          `planned ${plural(stages, 'stage')} in ${plural(plan.steps.length, 'step')} into namespace ${plan.namespace}: ` +
            `${plural(planObjects(plan).length, 'object')}, ` +
            (codeBundle !== undefined
              ? `code ${codeBundle.hash.slice(0, 10)} (${plural(codeBundle.files.length, 'file')})\n`
              : `code cloned from git at ${source.codeSource?.type === 'git' ? source.codeSource.commit.slice(0, 10) : ''}\n`),
        );
      } catch (error) {
        if (error instanceof PlanError || error instanceof BundleError) throw new CliExit(EXIT_USAGE, `error: ${error.message}`);
        throw error;
      }
    });
}
