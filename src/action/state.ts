/** What the main step hands the post step (core.saveState / core.getState). Kept apart so the post bundle stays small. */

/** The path of the kubeconfig file written from the `kubeconfig` input. */
export const KUBECONFIG_STATE = 'kubeconfig-path';
