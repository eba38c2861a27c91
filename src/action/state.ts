/** What the main step hands the post step (core.saveState / core.getState). Kept apart so the post bundle stays small. */

/** The path of the kubeconfig file written from the `kubeconfig` input. */
export const KUBECONFIG_STATE = 'kubeconfig-path';

/** The name of that file, directly under RUNNER_TEMP: this prefix and 12 hex digits. */
export const KUBECONFIG_FILE_PREFIX = 'bodywork-kubeconfig-';
export const KUBECONFIG_FILE_NAME = /^bodywork-kubeconfig-[0-9a-f]{12}$/;
