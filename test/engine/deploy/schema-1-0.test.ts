/**
 * A YAML "1.0" project written like the real ones of Bodywork 2 (bodywork-test-project at tp@d5a179c): a later stage
 * calls the service at `http://<project>--<stage>:5000`, the name Bodywork 2 gave it. Deployed in the sandbox, the
 * call reaches the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { httpServer, newRunId, planDir, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from './helpers.js';

let s: DeploySandbox;
let dir: string;
beforeAll(async () => {
  s = await startDeploySandbox();
  dir = await writeProject({
    'bodywork.yaml': [
      'version: "1.0"',
      'project:',
      '  name: bodywork-test-project',
      '  docker_image: bodyworkml/bodywork-core:latest',
      '  DAG: stage_4 >> stage_5',
      'stages:',
      '  stage_4:',
      '    executable_module_path: stage_four/main.py',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    service:',
      '      max_startup_time_seconds: 30',
      '      replicas: 1',
      '      port: 5000',
      '      ingress: false',
      '  stage_5:',
      '    executable_module_path: stage_five/main.py',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    batch:',
      '      max_completion_time_seconds: 30',
      '      retries: 0',
      'logging:',
      '  log_level: INFO',
      '',
    ].join('\n'),
    'stage_four/main.py': httpServer(5000, 'hello from stage 4'),
    'stage_five/main.py': [
      'import sys, urllib.request',
      'reply = urllib.request.urlopen("http://bodywork-test-project--stage-4:5000/v2/predict", timeout=10)',
      'print("stage 4 says:", reply.read().decode(), flush=True)',
      'sys.exit(0 if reply.status == 200 else 1)',
      '',
    ].join('\n'),
  });
});
afterAll(async () => {
  await s?.stop();
  await removeProject(dir);
});

describe('a YAML "1.0" project', () => {
  it('reaches its service at http://<project>--<stage>:5000, as under Bodywork 2', async () => {
    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 90_000, onLogLine: (_stage, l) => lines.push(l) });
    expect(r.stages.map((x) => [x.stage, x.status, x.object]), JSON.stringify(r, null, 1)).toEqual([
      ['stage_4', 'succeeded', 'Deployment/bodywork-test-project--stage-4'],
      ['stage_5', 'succeeded', expect.stringMatching(/^Job\/bodywork-test-project--stage-5-/)],
    ]);
    expect(lines).toContain('[stage_5] stage 4 says: hello from stage 4');
  });
});
