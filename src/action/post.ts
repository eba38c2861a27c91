/**
 * The action's post step (`runs.post`, `post-if: always()`): deletes the kubeconfig file the main step wrote from
 * the `kubeconfig` input, whatever happened to the job. The path comes from the main step's saved state.
 */
import * as core from '@actions/core';
import { existsSync, rmSync } from 'node:fs';
import { KUBECONFIG_STATE } from './state.js';

export function post(): void {
  const file = core.getState(KUBECONFIG_STATE);
  if (file === '') {
    core.debug('no kubeconfig file to delete');
    return;
  }
  try {
    if (existsSync(file)) {
      rmSync(file, { force: true });
      core.info(`deleted the kubeconfig file ${file}`);
    } else {
      core.debug(`the kubeconfig file ${file} is already gone`);
    }
  } catch (error) {
    core.warning(`bodywork-deploy: could not delete the kubeconfig file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

post();
