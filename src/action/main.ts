import * as core from '@actions/core';
import { KubeConfig } from '@kubernetes/client-node';
core.info(`hello ${typeof KubeConfig}`);
