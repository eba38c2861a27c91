/**
 * `bodywork-deploy schedule [DIR] --cron "0 3 * * *"`: the in-cluster runner in a CronJob, Bodywork's in-cluster
 * schedule: each run deploys the project as shipped now (the CLI and the project in ConfigMaps), with the lock, logs,
 * retries, rollback and prune of a deploy. Again with other settings, it updates the schedule; `--delete` removes it.
 */
import { type Command, Option } from 'commander';
import { loadRunner, formatDuration, BundleError, bundleProject, DEFAULT_KEEP_JOBS, DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT } from '../../engine/index.js';
import { type ClusterFlags, withClusterOptions, projectOnCluster } from '../cluster.js';
import { CliExit, type CliIo, collect, EXIT_USAGE, oneLine } from '../io.js';
import { settingsFromFlags } from '../settings.js';
import { cliBundleDir } from '../runner.js';

interface ScheduleFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
  cron?: string;
  timeZone?: string;
  delete?: boolean;
  image?: string;
  ingressClass?: string;
  stages?: string;
  timeout: string;
  keepJobs: string;
  lockTimeout: string;
  prune: boolean;
  imagePullSecret?: string[];
  runnerImage?: string;
}

export function registerSchedule(program: Command, io: CliIo): void {
  const command = program
    .command('schedule')
    .description('deploy the project on a schedule from inside the cluster: the in-cluster runner in a CronJob (--delete removes it)')
    .argument('[dir]', 'project directory', '.');
  withClusterOptions(command)
    .option('--cron <schedule>', 'when to deploy, in cron syntax: "0 3 * * *" is every day at 03:00')
    .option('--time-zone <zone>', "the schedule's time zone, e.g. Europe/London (default: the kube-controller-manager's)")
    .option('--delete', "remove the project's schedule (runs under way go on)")
    .option('--image <image>', "image for every stage, instead of the project's")
    .option('--ingress-class <class>', 'ingressClassName of service stages with an ingress')
    .option('--stages <names>', 'deploy only these stages (comma-separated config names)')
    .option('--timeout <duration>', 'each run gives up (cancelling running stages) after this long', DEFAULT_TIMEOUT)
    .option('--keep-jobs <n>', 'finished Jobs kept per batch stage after each step', String(DEFAULT_KEEP_JOBS))
    .option('--lock-timeout <duration>', "how long a run waits for another run's deploy lock", DEFAULT_LOCK_TIMEOUT)
    .option('--no-prune', 'after a successful run, keep the objects of stages gone from the DAG')
    .option('--image-pull-secret <name>', 'an existing docker-registry Secret the stage pods pull with (repeatable)', collect)
    .addOption(new Option('--runner-image <image>', 'the Node image of the runner (default node:24-slim)'))
    .action(async (dir: string, flags: ScheduleFlags) => {
      const settings = settingsFromFlags(flags, flags.imagePullSecret);
      if (flags.delete !== true && (flags.cron === undefined || flags.cron.trim().split(/\s+/).length < 5 && !flags.cron.trim().startsWith('@'))) {
        throw new CliExit(EXIT_USAGE, 'error: --cron needs a schedule of five fields, e.g. "0 3 * * *" (or @daily, @hourly)');
      }
      const { stages } = settings;
      const { logger, spec, plan, client } = await projectOnCluster(dir, flags, io, stages !== undefined ? { stages } : {});
      const runner = await loadRunner();
      if (flags.delete === true) {
        const name = runner.runnerCronJobName(spec.name);
        const deleted = await client.delete('CronJob', plan.namespace, name, { propagationPolicy: 'Background' });
        io.stdout(`${oneLine(deleted ? `deleted the schedule ${name} in namespace ${plan.namespace}` : `${spec.name} has no schedule in namespace ${plan.namespace}`)}\n`);
        return;
      }
      let codeBundle;
      try {
        codeBundle = await bundleProject(spec, (m) => logger.debug(m));
      } catch (e) {
        if (e instanceof BundleError) throw new CliExit(EXIT_USAGE, `error: ${e.message}`);
        throw e;
      }
      const name = await runner.scheduleRunner({
        client,
        logger,
        spec,
        plan,
        code: { bundle: codeBundle },
        cliDir: cliBundleDir(),
        schedule: flags.cron!.trim(),
        ...(flags.timeZone !== undefined ? { timeZone: flags.timeZone } : {}),
        ...(flags.runnerImage !== undefined ? { runnerImage: flags.runnerImage } : {}),
        settings,
      });
      io.stdout(`${oneLine(`scheduled ${spec.name}: CronJob ${name} in namespace ${plan.namespace} runs '${flags.cron!.trim()}'${flags.timeZone ? ` (${flags.timeZone})` : ''}, each run up to ${formatDuration(settings.timeoutMs)}`)}\n`);
      io.stdout(`${oneLine(`progress of the latest run: bodywork-deploy status ${dir} -n ${plan.namespace}; stop one: bodywork-deploy cancel ${dir} -n ${plan.namespace}`)}\n`);
    });
}
