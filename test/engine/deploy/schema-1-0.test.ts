/**
 * A YAML "1.0" project written like the real ones of Bodywork 2 (bodywork-test-project at tp@d5a179c, its stages
 * named as in its INI days): a later stage calls the service at `http://<project>--<stage>:5000`, the name Bodywork 2
 * gave it. Deployed in the sandbox, the call reaches the service; the objects of an earlier "1.1" deploy are pruned.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
      '  DAG: stage-4 >> stage-5',
      'stages:',
      '  stage-4:',
      '    executable_module_path: stage_four/main.py',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    service:',
      '      max_startup_time_seconds: 30',
      '      replicas: 1',
      '      port: 5000',
      '      ingress: false',
      '  stage-5:',
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
  it('reaches its service at http://<project>--<stage>:5000, as under Bodywork 2, and prunes the objects of its "1.1" names', async () => {
    // First deployed as schema "1.1" (its service alone): the Bodywork 3 names, stage-4.
    const yaml = await readFile(join(dir, 'bodywork.yaml'), 'utf8');
    await writeFile(join(dir, 'bodywork.yaml'), yaml.replace('version: "1.0"\nproject:', 'version: "1.1"\npipeline:'));
    const v3 = await planDir(dir, { stages: ['stage-4'] });
    const first = await deployProject({ client: s.client, logger: new RecordingLogger(), spec: v3.spec, plan: v3.plan, runId: newRunId(), timeoutMs: 90_000 });
    expect(first.status, JSON.stringify(first, null, 1)).toBe('success');
    expect(await s.client.exists('Deployment', 'bodywork-test-project', 'stage-4')).toBe(true);
    await writeFile(join(dir, 'bodywork.yaml'), yaml);

    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const logger = new RecordingLogger();
    const r = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 90_000, onLogLine: (_stage, l) => lines.push(l) });
    expect(r.stages.map((x) => [x.stage, x.status, x.object]), JSON.stringify(r, null, 1)).toEqual([
      ['stage-4', 'succeeded', 'Deployment/bodywork-test-project--stage-4'],
      ['stage-5', 'succeeded', expect.stringMatching(/^Job\/bodywork-test-project--stage-5-/)],
    ]);
    expect(lines).toContain('[stage-5] stage 4 says: hello from stage 4');
    // The stage's label is the same under both names (stage-4), so only the name tells the old objects apart.
    expect(logger.messages('info').filter((m) => m.startsWith('pruned ') && !m.startsWith('pruned ConfigMap/')).sort()).toEqual([
      "pruned Deployment/stage-4 (stage 'stage-4' is now named bodywork-test-project--stage-4)",
      "pruned Service/stage-4 (stage 'stage-4' is now named bodywork-test-project--stage-4)",
    ]);
  });
});
