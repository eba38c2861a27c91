/** deployProject with batch and service stages together: one step runs both at once, a later step reaches the service. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, httpServer, newRunId, planDir, sharedDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

describe('a step with a batch and a service stage', () => {
  it('runs them at once (not batch first, as Bodywork did), then the next step', async () => {
    const work = await sharedDir(); // stage pods (non-root) write the marker here
    dirs.push(work);
    const marker = join(work, 'api-started');
    const waitForApi = [
      'import os, sys, time',
      'deadline = time.time() + 30',
      `while not os.path.exists(${JSON.stringify(marker)}):`,
      '    if time.time() > deadline:',
      '        print("the service never started", flush=True)',
      '        sys.exit(3)',
      '    time.sleep(0.05)',
      'print("the service is starting alongside", flush=True)',
      '',
    ].join('\n');
    const dir = await writeProject(
      batchProject('mixed', 'train, api >> check', {
        // The batch stage finishes only once the service stage of its step has started: batch-before-service would hang.
        train: { script: waitForApi },
        api: { script: httpServer(5000, 'model v1', marker), service: { port: 5000 } },
        check: {
          script: [
            'import urllib.request',
            '# The Service name resolves inside the pod, as on a cluster.',
            'url = "http://api.mixed.svc.cluster.local:5000/"',
            'print("api says:", urllib.request.urlopen(url, timeout=10).read().decode(), flush=True)',
            '',
          ].join('\n'),
        },
      }),
    );
    dirs.push(dir);
    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 90_000, onLogLine: (_s, l) => lines.push(l) });
    expect(r.stages.map((x) => [x.stage, x.type, x.step, x.status]), JSON.stringify(r, null, 1)).toEqual([
      ['train', 'batch', 1, 'succeeded'],
      ['api', 'service', 1, 'succeeded'],
      ['check', 'batch', 2, 'succeeded'],
    ]);
    expect(r.status).toBe('success');
    expect(r.stages[1].url).toBe('http://api.mixed.svc.cluster.local:5000');
    expect(lines).toContain('[train] the service is starting alongside');
    expect(lines).toContain('[check] api says: model v1');
  });
});
