/** The class of the Ingresses a run creates: the asked-for class, else the cluster's default IngressClass, else nginx (as Bodywork). */
import type { V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { resolveIngressClass, withIngressClass } from '../../../src/engine/deploy/ingress-class.js';
import { KubeApiError, type KubeClient } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { httpServer, newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

/** A project with one service stage behind an ingress. */
async function ingressProject(name: string): Promise<string> {
  const dir = await writeProject({
    'bodywork.yaml': [
      'version: "1.1"',
      'pipeline:',
      `  name: ${name}`,
      '  docker_image: bodyworkml/bodywork-core:latest',
      '  DAG: api',
      'stages:',
      '  api:',
      '    executable_module_path: api/main.py',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    service:',
      '      max_startup_time_seconds: 30',
      '      replicas: 1',
      '      port: 5000',
      '      ingress: true',
      'logging:',
      '  log_level: INFO',
      '',
    ].join('\n'),
    'api/main.py': httpServer(5000, 'ok'),
  });
  dirs.push(dir);
  return dir;
}

const ingressClass = (name: string, isDefault: boolean) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller: `example.com/${name}` },
});

describe('resolveIngressClass', () => {
  it('is nginx, as Bodywork, when the cluster has no default IngressClass, and the default when it has one', async () => {
    const logger = new RecordingLogger();
    expect(await resolveIngressClass(s.client, logger)).toBe('nginx');
    await s.client.create(ingressClass('haproxy', false));
    expect(await resolveIngressClass(s.client, logger)).toBe('nginx');
    await s.client.create(ingressClass('traefik', true));
    expect(await resolveIngressClass(s.client, logger)).toBe('traefik');
    expect(logger.messages('debug')).toContain("ingresses get the cluster's default class traefik");
  });

  it('leaves the class to the cluster when IngressClasses may not be listed (403), with a debug line', async () => {
    const forbidden = new KubeApiError({ verb: 'list', kind: 'IngressClass', statusCode: 403, reason: 'Forbidden', causes: [], retryable: false, delivery: 'yes' });
    const client = { list: () => Promise.reject(forbidden) } as unknown as KubeClient;
    const logger = new RecordingLogger();
    expect(await resolveIngressClass(client, logger)).toBeUndefined();
    expect(logger.messages('debug')).toEqual([expect.stringMatching(/^not allowed to list IngressClasses: ingresses get no class, so the cluster's default class applies/)]);
    expect(logger.messages('warn')).toEqual([]);
  });
});

describe('deployProject', () => {
  it("gives the Ingress the cluster's default class when none was asked for, and keeps an asked-for class", async () => {
    if (!(await s.client.exists('IngressClass', undefined, 'traefik'))) await s.client.create(ingressClass('traefik', true));
    const { spec, plan } = await planDir(await ingressProject('ingress-default'));
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 90_000 });
    expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
    expect((await s.client.find<V1Ingress>('Ingress', 'ingress-default', 'api'))?.spec?.ingressClassName).toBe('traefik');

    const asked = await planDir(await ingressProject('ingress-asked'), { ingressClass: 'nginx-internal' });
    const stage = withIngressClass(asked.plan, 'traefik').steps[0].stages[0];
    expect(stage.type === 'service' && stage.ingress?.spec?.ingressClassName).toBe('nginx-internal');
  });
});
