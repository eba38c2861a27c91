/**
 * An INI project's service in a cluster: named `<project>--<stage>`, its Deployment and pods labelled with the bare
 * stage name as Bodywork 1 did (so `kubectl get pods -l stage=<stage>` finds them), and kept by the prune of the next run.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { httpServer, newRunId, planDir, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from './helpers.js';

let s: DeploySandbox;
let dir: string;
beforeAll(async () => {
  s = await startDeploySandbox();
  dir = await writeProject({
    'bodywork.ini': '[default]\nPROJECT_NAME=ini-labels\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=stage-1-serve\n\n[logging]\nLOG_LEVEL=INFO\n',
    'stage-1-serve/config.ini':
      '[default]\nSTAGE_TYPE=service\nEXECUTABLE_SCRIPT=main.py\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n\n[service]\nMAX_STARTUP_TIME_SECONDS=30\nREPLICAS=1\nPORT=5000\nINGRESS=False\n',
    'stage-1-serve/main.py': httpServer(5000, 'ok'),
    'stage-1-serve/requirements.txt': '',
  });
});
afterAll(async () => {
  await s?.stop();
  await removeProject(dir);
});

describe('an INI service stage in the cluster', () => {
  it('is labelled with the bare stage name and survives the next run\'s prune', async () => {
    const name = 'ini-labels--stage-1-serve';
    for (let run = 1; run <= 2; run++) {
      const { spec, plan } = await planDir(dir);
      const logger = new RecordingLogger();
      const r = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 90_000 });
      expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
      expect(logger.messages('info').filter((m) => m.startsWith('pruned '))).toEqual([]);
    }
    const deployment = await s.client.find<V1Deployment>('Deployment', 'ini-labels', name);
    expect(deployment?.metadata?.deletionTimestamp).toBeUndefined();
    expect(deployment?.metadata?.labels?.stage).toBe('stage-1-serve');
    const pods = await s.client.list<V1Pod>('Pod', 'ini-labels', { labelSelector: 'stage=stage-1-serve' });
    expect(pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name)).toEqual([expect.stringMatching(new RegExp(`^${name}-`))]);
  });
});
