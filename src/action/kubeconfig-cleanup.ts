/**
 * The action's post step (`runs.post`, `post-if: always()`): deletes the kubeconfig file the main step wrote from
 * the `kubeconfig` input, whatever happened to the job. The path comes from the main step's saved state, which a
 * step's output can try to forge (`save-state`): only a regular file named as the main step names it, directly in
 * RUNNER_TEMP (real paths compared, so no link leads elsewhere), is deleted; anything else is refused.
 */
import * as core from '@actions/core';
import { lstatSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { KUBECONFIG_FILE_NAME, KUBECONFIG_STATE } from './state.js';
import { errorMessage } from '../engine/base.js';

/** Why `file` is not ours to delete, or undefined when it is (a missing file is "already gone", not refused). */
export function refusal(file: string, runnerTemp: string): string | undefined {
  if (!KUBECONFIG_FILE_NAME.test(basename(file))) return 'it is not named as the kubeconfig file the action writes';
  let temp: string;
  let parent: string;
  try {
    temp = realpathSync(runnerTemp);
    parent = realpathSync(dirname(file));
  } catch {
    return `its directory or RUNNER_TEMP (${runnerTemp}) cannot be resolved`;
  }
  if (parent !== temp) return `it is not directly in RUNNER_TEMP (${temp})`;
  try {
    if (!lstatSync(file).isFile()) return 'it is not a regular file';
  } catch {
    return undefined;
  }
  return undefined;
}

/** The post step: deletes the kubeconfig file the main step saved in its state, if it is ours to delete. */
export function deleteKubeconfigFile(): void {
  const file = core.getState(KUBECONFIG_STATE);
  if (file === '') {
    core.debug('no kubeconfig file to delete');
    return;
  }
  const why = refusal(file, process.env.RUNNER_TEMP || tmpdir());
  if (why !== undefined) {
    core.warning(`bodywork-deploy: not deleting ${JSON.stringify(file)}: ${why}`);
    return;
  }
  try {
    const existed = lstatSync(file, { throwIfNoEntry: false }) !== undefined;
    if (existed) {
      rmSync(file, { force: true });
      core.info(`deleted the kubeconfig file ${file}`);
    } else {
      core.debug(`the kubeconfig file ${file} is already gone`);
    }
  } catch (error) {
    core.warning(`bodywork-deploy: could not delete the kubeconfig file ${file}: ${errorMessage(error)}`);
  }
}

