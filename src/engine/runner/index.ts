/** The in-cluster runner: the deploy engine run as a Job in the cluster (issue 15, "DAGs that outlive the CI job"). */
export { BOOTSTRAP, CLI_VOLUME_NAME, CliBundleError, packCliBundle, type CliBundle } from './cli-bundle.js';
export { DEFAULT_RUNNER_IMAGE, RUNNER_ACCOUNT, RUNNER_GRACE_SECONDS, RUNNER_RULES, runnerCronJobName, runnerJobName, runnerLabels, runnerSelector, type RunnerCode } from './objects.js';
export { ProgressRecorder, followCommand, isFinal, parseProgress, pruneRunnerHistory, readRunnerStatus, readSchedule, type RunnerPhase, type RunnerProgress, type RunnerStatus } from './progress.js';
export { runnerCode, runnerDeployArgs, runnerStartWaitMs, scheduleRunner, startRunner, waitForRunnerStart, type RunnerSetup, type RunnerStart, type StartedRunner } from './start.js';
export { cancelRunner, type CancelOptions, type CancelResult } from './cancel.js';
