import { KubeConfig } from '@kubernetes/client-node';
console.log(`cli ${typeof KubeConfig}`);
