/** Which Secrets `deploy --sandbox` fills from the sandbox's object store, and with what. */
import { describe, expect, it } from 'vitest';
import { objectStoreSecretNames, withObjectStoreSecrets } from '../../src/cli/object-store.js';
import { loadProject } from '../../src/engine/config/load.js';
import { planProject } from '../../src/engine/plan/index.js';
import { objectStoreManifests, objectStoreSecretData, OBJECT_STORE_KEYS } from '../../src/sandbox/object-store.js';
import { removeProject, writeProject } from '../engine/deploy/helpers.js';

async function planOf(secrets: Record<string, string>) {
  const dir = await writeProject({
    'bodywork.yaml': [
      'version: "1.1"',
      'pipeline:',
      '  name: store-rules',
      '  docker_image: bodyworkml/bodywork-core:latest',
      '  DAG: train',
      'stages:',
      '  train:',
      '    executable_module_path: train.py',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    batch:',
      '      max_completion_time_seconds: 30',
      '      retries: 0',
      '    secrets:',
      ...Object.entries(secrets).map(([k, v]) => `      ${k}: ${v}`),
      'logging:',
      '  log_level: INFO',
      '',
    ].join('\n'),
    'train.py': 'print("ok")\n',
  });
  try {
    const { spec, problems } = await loadProject(dir);
    expect(problems).toEqual([]);
    return planProject(spec!, {});
  } finally {
    await removeProject(dir);
  }
}

describe('the object store and a project\'s Secrets', () => {
  it('fills a Secret whose keys are all object-store keys and of which the user gave nothing', async () => {
    const plan = await planOf({ AWS_ACCESS_KEY_ID: 'model-store', S3_BUCKET: 'model-store', AWS_ENDPOINT_URL: 'model-store' });
    expect(objectStoreSecretNames(plan, [])).toEqual(['model-store']);
    const data = objectStoreSecretData('http://store:9000', { accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(Object.keys(data).sort()).toEqual([...OBJECT_STORE_KEYS].sort());
    const given = [{ name: 'other', data: { TOKEN: 't' } }];
    const filled = withObjectStoreSecrets(given, ['model-store'], data);
    expect(filled).toEqual([{ name: 'other', data: { TOKEN: 't' } }, { name: 'model-store', data }]);
    expect(given).toEqual([{ name: 'other', data: { TOKEN: 't' } }]); // not modified in place
  });

  it('leaves alone a Secret that also wants other keys, and one the user gave any key of', async () => {
    const plan = await planOf({ AWS_ACCESS_KEY_ID: 'mixed', DB_PASSWORD: 'mixed', S3_BUCKET: 'mine' });
    expect(objectStoreSecretNames(plan, [])).toEqual(['mine']);
    expect(objectStoreSecretNames(plan, [{ name: 'mine', data: { S3_BUCKET: 'b' } }])).toEqual([]);
    expect(objectStoreSecretNames(plan, [{ name: 'mixed', data: { DB_PASSWORD: 'x' } }])).toEqual(['mine']);
  });

  it('plans the store as a namespace, a Deployment listening on its pod IP, and a Service', () => {
    const [ns, deployment, service] = objectStoreManifests() as any[];
    expect([ns.kind, deployment.kind, service.kind]).toEqual(['Namespace', 'Deployment', 'Service']);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.command).toEqual(['moto_server', '-H', '$(POD_IP)', '-p', '9000']);
    expect(container.env).toContainEqual({ name: 'MOTO_S3_CUSTOM_ENDPOINTS', value: 'http://object-store.bodywork-sandbox:9000' });
    expect(service.spec.ports).toEqual([{ name: 's3', port: 9000, targetPort: 9000 }]);
  });
});
