/** The action's post step's entry point (dist/post/index.js): it only imports and calls (kubeconfig-cleanup.ts). */
import { deleteKubeconfigFile } from './kubeconfig-cleanup.js';

deleteKubeconfigFile();
