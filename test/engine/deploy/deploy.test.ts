/** deployProject with batch and service stages together: one step runs both at once, a later step reaches the service. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { KubeClient, loadKubeConfig } from '../../../src/engine/kube/index.js';
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

/**
 * A deploy of `train >> api` into `namespace`, returning a function that runs it with a client of its own, whose
 * debug lines are then that run's requests, one per line (`GET /api/v1/...`), and its watches (`WATCH ...`).
 */
async function trainAndServe(namespace: string): Promise<() => Promise<RecordingLogger>> {
  const dir = await s.project(
    batchProject(namespace, 'train >> api', {
      train: { script: 'print("trained", flush=True)\n' },
      api: { script: httpServer(5000, 'model v1'), service: { port: 5000 } },
    }),
  );
  const { spec, plan } = await planDir(dir);
  return async () => {
    const logger = new RecordingLogger();
    const client = KubeClient.create(loadKubeConfig({ content: s.sandbox.kubeconfig }).kc, logger);
    const r = await deployProject({ client, logger, spec, plan, runId: newRunId(), timeoutMs: 90_000 });
    expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
    return logger;
  };
}

describe('a namespace the run created', () => {
  it('is not searched for what cannot be in it yet; the next run into it looks, cleans up and prunes', async () => {
    const run = await trainAndServe('fresh-ns');
    const deploy = async () => {
      const logger = await run();
      const requests = logger.messages('debug').filter((m) => /^(GET|POST|PATCH|PUT|DELETE) \//.test(m));
      return { logger, requests, lookups: requests.filter((m) => /^GET .*\/(serviceaccounts\/bodywork-stage|configmaps\/fresh-ns-code-[0-9a-f]+|deployments\/api)$|^GET .*\/(jobs\?labelSelector=stage|cronjobs)/.test(m)) };
    };

    const first = await deploy();
    expect(first.logger.messages('info')).toContain('creating namespace=fresh-ns');
    // The namespace's own GET answered 404 before its POST; nothing else was looked up: no ServiceAccount or code
    // ConfigMap by name, no earlier Deployment, no earlier runs' Jobs, no prune (its lists include CronJobs).
    expect(first.lookups).toEqual([]);
    expect(first.logger.messages('debug')).not.toContain('nothing to prune in namespace=fresh-ns');

    const second = await deploy();
    expect(second.logger.messages('info')).toContain('namespace=fresh-ns already exists');
    expect(second.lookups.map((m) => m.replace(/\?.*/, '').replace(/-code-[0-9a-f]+$/, '-code-HASH'))).toEqual(
      expect.arrayContaining([
        'GET /api/v1/namespaces/fresh-ns/serviceaccounts/bodywork-stage',
        'GET /api/v1/namespaces/fresh-ns/configmaps/fresh-ns-code-HASH',
        'GET /apis/apps/v1/namespaces/fresh-ns/deployments/api',
        'GET /apis/batch/v1/namespaces/fresh-ns/jobs',
        'GET /apis/batch/v1/namespaces/fresh-ns/cronjobs',
      ]),
    );
    expect(second.logger.messages('debug')).toContain('nothing to prune in namespace=fresh-ns');
    // The first run's Job went in the second's clean-up (one kept per stage: the latest).
    const jobs = await s.client.list('Job', 'fresh-ns');
    expect(jobs.items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name)).toEqual([expect.stringMatching(/^train-/)]);
  });
});

describe("a stage's watches", () => {
  it('start from what its create or first apply answered, listing nothing; an update of a service lists what it finds', async () => {
    const run = await trainAndServe('watch-from');
    // The lists a stage's watches would start with, by their selectors (the clean-up's and prune's select by others).
    const watched: [string, RegExp][] = [
      ["a Job's pods", /\/pods\?labelSelector=job-name=/],
      ['the Job', /\/jobs\?fieldSelector=metadata\.name=/],
      ['ReplicaSets', /\/replicasets\?labelSelector=stage=/],
      ['the Deployment', /\/deployments\?fieldSelector=metadata\.name=/],
      ['new pods', /\/pods\?labelSelector=stage=[^&]*pod-template-hash=/],
    ];
    const deploy = async () => {
      const logger = await run();
      // Request lines, their queries decoded (`%3D` for `=`); only those: another debug line may hold a bare %.
      const debug = logger
        .messages('debug')
        .filter((m) => /^(GET|WATCH) \//.test(m))
        .map((m) => decodeURIComponent(m));
      return {
        lists: debug.filter((m) => m.startsWith('GET ')).flatMap((m) => watched.filter(([, re]) => re.test(m)).map(([name]) => name)),
        watches: debug.filter((m) => /^WATCH \S+\/(pods|jobs|replicasets|deployments) /.test(m)),
      };
    };

    const first = await deploy();
    expect(first.lists).toEqual([]);
    for (const kind of ['pods', 'jobs', 'replicasets', 'deployments']) expect(first.watches.some((w) => w.includes(`/${kind} from resourceVersion `))).toBe(true);
    expect(first.watches.filter((w) => !/ from resourceVersion \d+$/.test(w))).toEqual([]);

    // The Deployment exists now: its rollout lists its ReplicaSets and itself (and the new ReplicaSet's pods when it
    // gets that far: the same plan again leaves the rollout complete at once, which may end it before). The new Job
    // is created afresh, so its stage still lists nothing.
    const second = await deploy();
    expect(second.lists.filter((l) => l !== 'new pods').sort()).toEqual(['ReplicaSets', 'the Deployment']);
  });
});
