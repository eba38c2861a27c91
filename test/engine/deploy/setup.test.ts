/** Before any stage runs: namespace setup (idempotent, the tutorial's messages) and the secret check. */
import type { V1ConfigMap, V1Job, V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { setupNamespace } from '../../../src/engine/deploy/namespace.js';
import { checkSecrets } from '../../../src/engine/deploy/secrets.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, newRunId, planDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();

const project = s.project;

describe('setupNamespace', () => {
  it('creates the namespace, the stage service account and the code, then says they already exist', async () => {
    const dir = await project(batchProject('ml-pipeline', 'one', { one: { script: 'print(1)\n' } }));
    const { plan } = await planDir(dir);
    const ctx = { client: s.client, plan, namespace: plan.namespace, signal: new AbortController().signal };

    const first = new RecordingLogger();
    const r1 = await setupNamespace({ ...ctx, logger: first });
    expect(first.messages('info')).toEqual([
      'creating namespace=ml-pipeline',
      'creating service-account=bodywork-stage in namespace=ml-pipeline',
      expect.stringMatching(/^creating code config-map=ml-pipeline-code-[0-9a-f]+ in namespace=ml-pipeline$/),
    ]);
    expect(r1.namespaceCreated).toBe(true);
    expect(r1.serviceAccountCreated).toBe(true);
    expect(r1.configMapsCreated).toHaveLength(1);
    const ns = await s.client.get<V1Namespace>('Namespace', undefined, 'ml-pipeline');
    expect(ns.metadata?.labels).toMatchObject(plan.labels);
    for (const [kind, name] of [
      ['ServiceAccount', 'bodywork-stage'],
      ['Role', 'bodywork-stage'],
      ['RoleBinding', 'bodywork-stage'],
    ]) {
      expect(await s.client.exists(kind, 'ml-pipeline', name)).toBe(true);
    }
    const cm = await s.client.get<V1ConfigMap>('ConfigMap', 'ml-pipeline', r1.configMapsCreated[0]);
    expect(cm.immutable).toBe(true);
    const rv = cm.metadata?.resourceVersion;

    const second = new RecordingLogger();
    const r2 = await setupNamespace({ ...ctx, logger: second });
    expect(second.messages('info')).toEqual(['namespace=ml-pipeline already exists', 'service-account=bodywork-stage already exists in namespace=ml-pipeline']);
    expect(r2).toEqual({ namespaceCreated: false, serviceAccountCreated: false, configMapsCreated: [] });
    expect((await s.client.get<V1ConfigMap>('ConfigMap', 'ml-pipeline', r1.configMapsCreated[0])).metadata?.resourceVersion).toBe(rv);
  });

  it('leaves an existing namespace as it is', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'theirs', labels: { team: 'a' } } });
    const dir = await project(batchProject('theirs', 'one', { one: { script: 'print(1)\n' } }));
    const { plan } = await planDir(dir);
    const logger = new RecordingLogger();
    await setupNamespace({ client: s.client, logger, plan, namespace: 'theirs', signal: new AbortController().signal });
    expect(logger.messages('info')[0]).toBe('namespace=theirs already exists');
    expect((await s.client.get<V1Namespace>('Namespace', undefined, 'theirs')).metadata?.labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'theirs' });
  });
});

describe('the secret check', () => {
  it('reports every missing secret and key at once, with the config line, and runs no stage', async () => {
    const files = batchProject('with-secrets', 'load >> train', {
      load: { script: 'print("load")\n', secrets: { USER: 'db-creds', PASSWORD: 'db-creds' } },
      train: { script: 'print("train")\n', secrets: { TOKEN: 'api-token' } },
    });
    const dir = await project(files);
    const { spec, plan } = await planDir(dir);
    const lineOf = (text: string) => files['bodywork.yaml'].split('\n').indexOf(text) + 1;
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plan.namespace } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: plan.namespace }, stringData: { USER: 'me' } });

    const problems = await checkSecrets({ client: s.client, plan, namespace: plan.namespace, signal: new AbortController().signal });
    expect(problems.map((p) => p.message)).toEqual([
      `bodywork.yaml:${lineOf('      PASSWORD: db-creds')}: secret "db-creds" has no key "PASSWORD" in namespace "with-secrets"`,
      `bodywork.yaml:${lineOf('      TOKEN: api-token')}: secret "api-token" (for key "TOKEN") does not exist in namespace "with-secrets"`,
    ]);
    expect(problems[0].problem).toEqual({ severity: 'error', file: 'bodywork.yaml', line: lineOf('      PASSWORD: db-creds'), message: expect.stringContaining('PASSWORD') });

    const logger = new RecordingLogger();
    const r = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 30_000 });
    expect(r.status).toBe('failure');
    expect(r.reason).toMatch(/^2 missing secrets or keys; first: bodywork\.yaml:\d+: secret "db-creds" has no key "PASSWORD"/);
    expect(r.stages.map((x) => x.status)).toEqual(['skipped', 'skipped']);
    expect(logger.messages('error')).toEqual(expect.arrayContaining(problems.map((p) => p.message)));
    expect(logger.messages('group')).toEqual([]);
    expect((await s.client.list<V1Job>('Job', plan.namespace)).items).toEqual([]);

    // With the secret complete, the same project deploys.
    await s.client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: plan.namespace }, stringData: { USER: 'me', PASSWORD: 'pw' } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-token', namespace: plan.namespace }, stringData: { TOKEN: 't' } });
    expect(await checkSecrets({ client: s.client, plan, namespace: plan.namespace, signal: new AbortController().signal })).toEqual([]);
  });

  it('names the config.ini line of an INI project', async () => {
    const stage2 = ['[default]', 'STAGE_TYPE=batch', 'EXECUTABLE_SCRIPT=main.py', 'CPU_REQUEST=0.1', 'MEMORY_REQUEST_MB=50', '', '[batch]', 'MAX_COMPLETION_TIME_SECONDS=30', 'RETRIES=0', '', '[secrets]', 'USER=db-creds', 'PASSWORD=db-creds', ''];
    const dir = await project({
      'bodywork.ini': ['[default]', 'PROJECT_NAME=ml-pipeline', 'DOCKER_IMAGE=bodyworkml/bodywork-core:latest', '', '[workflow]', 'DAG=stage-2', '', '[logging]', 'LOG_LEVEL=INFO', ''].join('\n'),
      'stage-2/config.ini': stage2.join('\n'),
      'stage-2/main.py': 'print(1)\n',
    });
    const { plan } = await planDir(dir, { namespace: 'ini-secrets' });
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ini-secrets' } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: 'ini-secrets' }, data: { USER: Buffer.from('me').toString('base64') } });
    const problems = await checkSecrets({ client: s.client, plan, namespace: 'ini-secrets', signal: new AbortController().signal });
    expect(problems.map((p) => p.message)).toEqual([`stage-2/config.ini:${stage2.indexOf('PASSWORD=db-creds') + 1}: secret "db-creds" has no key "PASSWORD" in namespace "ini-secrets"`]);
  });
});
