/** The CLI and pod overrides: `plan` prints the merged pods and says what the overrides set; `validate` refuses a bad file at path:line. */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { apiServerProblems } from '../engine/plan/k8s-validate.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The tutorial's project with `overrides` as its bodywork-deploy.yaml. */
async function irisWith(overrides: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-cli-overrides-'));
  dirs.push(dir);
  await cp(join(repo, 'examples/iris-pipeline'), dir, { recursive: true });
  await writeFile(join(dir, 'bodywork-deploy.yaml'), overrides);
  return dir;
}

const GPU = `stages:
  stage-1-train-model:
    pod:
      nodeSelector: { accelerator: nvidia }
      tolerations:
        - { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }
    container:
      resources:
        limits: { nvidia.com/gpu: 1 }
`;

describe('bodywork-deploy plan with pod overrides', () => {
  it('prints the merged Job and says which stages the overrides change and what they set', async () => {
    const dir = await irisWith(GPU);
    const r = await cli('plan', dir, '--namespace', 'ml');
    expect(r.code, r.stderr).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: any });
    for (const o of objects) expect(apiServerProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    const pod = objects.find((o) => o.kind === 'Job')?.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ accelerator: 'nvidia' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.containers[0].resources.limits).toEqual({ 'nvidia.com/gpu': '1' });
    expect(objects.find((o) => o.kind === 'Deployment')?.spec.template.spec.tolerations).toBeUndefined();
    expect(r.stderr.split('\n').slice(1)).toEqual([
      'pod overrides from bodywork-deploy.yaml (strategic merge, defaults first):',
      '  stage-1-train-model (its own entry): pod.nodeSelector[accelerator], pod.tolerations, container.resources.limits[nvidia.com/gpu]',
      '',
    ]);
    const json = await cli('plan', dir, '-o', 'json');
    expect(JSON.parse(json.stdout).overrides).toEqual({
      file: 'bodywork-deploy.yaml',
      stages: [{ stage: 'stage-1-train-model', from: ['stage'], sets: ['pod.nodeSelector[accelerator]', 'pod.tolerations', 'container.resources.limits[nvidia.com/gpu]'] }],
    });
  });

  it('validate refuses an override of the engine\'s labels at path:line and exits 2', async () => {
    const dir = await irisWith('defaults:\n  pod:\n    metadata:\n      labels:\n        app.kubernetes.io/managed-by: me\n');
    const r = await cli('validate', dir);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      `${dir}/bodywork-deploy.yaml:5:9: defaults.pod.metadata.labels["app.kubernetes.io/managed-by"] cannot be overridden: the engine sets this label on every stage pod and selects the stage's pods by the engine's labels (Deployment selector, Service, logs, prune)`,
    );
  });
});
