/**
 * An INI project's service in a cluster: named `<project>--<stage>`, its Deployment and pods labelled with the bare
 * stage name as Bodywork 1 did (so `kubectl get pods -l stage=<stage>` finds them), and kept by the prune of the next run.
 */
import type { V1Deployment, V1Endpoints, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { waitForObject } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { httpServer, newRunId, planDir, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from './helpers.js';

/** An INI project whose one service stage, stage-1-serve, listens on `port`. */
function iniService(project: string, port: number): Promise<string> {
  return writeProject({
    'bodywork.ini': `[default]\nPROJECT_NAME=${project}\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=stage-1-serve\n\n[logging]\nLOG_LEVEL=INFO\n`,
    'stage-1-serve/config.ini': `[default]\nSTAGE_TYPE=service\nEXECUTABLE_SCRIPT=main.py\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n\n[service]\nMAX_STARTUP_TIME_SECONDS=30\nREPLICAS=1\nPORT=${port}\nINGRESS=False\n`,
    'stage-1-serve/main.py': httpServer(port, project),
    'stage-1-serve/requirements.txt': '',
  });
}

let s: DeploySandbox;
let dir: string;
let other: string;
beforeAll(async () => {
  s = await startDeploySandbox();
  dir = await iniService('ini-labels', 5000);
  other = await iniService('ini-labels-b', 5001);
});
afterAll(async () => {
  await s?.stop();
  await removeProject(dir);
  await removeProject(other);
});

async function deploy(project: string, namespace?: string): Promise<void> {
  const { spec, plan } = await planDir(project, namespace !== undefined ? { namespace } : {});
  const logger = new RecordingLogger();
  const r = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 90_000 });
  expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
  expect(logger.messages('info').filter((m) => m.startsWith('pruned '))).toEqual([]);
}

describe('an INI service stage in the cluster', () => {
  it('is labelled with the bare stage name and survives the next run\'s prune', async () => {
    const name = 'ini-labels--stage-1-serve';
    await deploy(dir);
    await deploy(dir);
    const deployment = await s.client.find<V1Deployment>('Deployment', 'ini-labels', name);
    expect(deployment?.metadata?.deletionTimestamp).toBeUndefined();
    expect(deployment?.metadata?.labels?.stage).toBe('stage-1-serve');
    const pods = await s.client.list<V1Pod>('Pod', 'ini-labels', { labelSelector: 'stage=stage-1-serve' });
    expect(pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name)).toEqual([expect.stringMatching(new RegExp(`^${name}-`))]);
  });

  it('keeps the Service of another project with a stage of the same name in the namespace to its own pods', async () => {
    await deploy(other, 'ini-labels');
    // The pods behind each Service, once the endpoints controller has listed any.
    const pods = (service: string) =>
      waitForObject<V1Endpoints, string[]>(
        { client: s.client, path: '/api/v1/namespaces/ini-labels/endpoints', name: service },
        (e) => {
          const names = (e?.subsets ?? []).flatMap((x) => (x.addresses ?? []).map((a) => a.targetRef?.name ?? ''));
          return names.length > 0 && names;
        },
        { timeoutMs: 30_000, description: `endpoints of ${service}` },
      );
    expect(await pods('ini-labels--stage-1-serve')).toEqual([expect.stringMatching(/^ini-labels--stage-1-serve-/)]);
    expect(await pods('ini-labels-b--stage-1-serve')).toEqual([expect.stringMatching(/^ini-labels-b--stage-1-serve-/)]);
  });
});
