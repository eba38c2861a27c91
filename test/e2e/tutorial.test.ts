/**
 * The tutorial, end to end, with no cluster: deploy examples/iris-pipeline (the tutorial's own config
 * text) into the embedded sandbox, then run the tutorial's test as written — `kubectl proxy` and its
 * curl to the service's proxy path — and get a prediction back. The model goes from the training
 * stage to the service through an S3 bucket (the sandbox's object store, as `deploy --sandbox` starts
 * it), never through a shared file: each pod has its own /tmp.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/engine/config/load.js';
import { deployProject } from '../../src/engine/deploy/deploy.js';
import type { DeployResult } from '../../src/engine/deploy/types.js';
import type { V1Endpoints } from '@kubernetes/client-node';
import { KubeClient, loadKubeConfig, waitForObject } from '../../src/engine/kube/index.js';
import { RecordingLogger } from '../../src/engine/logger.js';
import { bundleProject, planProject } from '../../src/engine/plan/index.js';
import { objectStoreSecretNames, startObjectStore, withObjectStoreSecrets, type ObjectStore } from '../../src/cli/object-store.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

const NAMESPACE = 'ml-pipeline';
const SERVICE = 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service';

let sandbox: TestCluster;
let dir: string;
let kubeconfig: string;
let result: DeployResult;
let proxy: ChildProcess | undefined;
let client: KubeClient;
let store: ObjectStore;
const logger = new RecordingLogger();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tutorial-'));
  kubeconfig = join(dir, 'kubeconfig');
  sandbox = await startTestCluster(undefined, { kubeconfigPath: kubeconfig, sharedPythonCache: true });
  const { spec, problems } = await loadProject(join(import.meta.dirname, '..', '..', 'examples', 'iris-pipeline'));
  expect(problems).toEqual([]);
  const plan = planProject(spec!, { namespace: NAMESPACE, runId: 'tutorial-1', codeBundle: await bundleProject(spec!) });
  client = KubeClient.create(loadKubeConfig({ content: sandbox.kubeconfig }).kc, logger);
  // As `deploy --sandbox` does: the object store fills the Secret the stages name in [secrets].
  store = await startObjectStore(client, sandbox, { timeoutMs: 180_000 });
  const secrets = withObjectStoreSecrets([], objectStoreSecretNames(plan, []), store.data);
  expect(secrets.map((s) => s.name)).toEqual(['model-store']);
  result = await deployProject({ client, logger, spec: spec!, plan, runId: 'tutorial-1', timeoutMs: 240_000, secrets });
}, 900_000);

afterAll(async () => {
  proxy?.kill('SIGTERM');
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the tutorial against the sandbox', () => {
  it('trains the model, then rolls out two replicas of the scoring service', () => {
    expect(result.reason).toBeUndefined();
    expect(result.status).toBe('success');
    expect(result.stages.map((s) => [s.stage, s.type, s.status])).toEqual([
      ['stage-1-train-model', 'batch', 'succeeded'],
      ['stage-2-deploy-scoring-service', 'service', 'succeeded'],
    ]);
    const service = result.stages[1]!;
    expect([service.readyReplicas, service.replicas]).toEqual([2, 2]);
    expect(service.url).toBe(`http://${SERVICE}.${NAMESPACE}.svc.cluster.local:5000`);
    expect(logger.entries.map((e) => e.message)).toContain(`creating namespace=${NAMESPACE}`);
  });

  it('saves the model in the stage\'s writable working copy, then hands it over through the object store', async () => {
    const lines = logger.entries.map((e) => e.message);
    expect(lines).toContainEqual(expect.stringMatching(/saved model to \/bodywork\/project\/stage-1-train-model\/iris_tree_classifier\.joblib$/));
    expect(lines).toContainEqual(expect.stringMatching(/uploaded model to s3:\/\/bodywork-models\/models\/iris_tree_classifier\.joblib$/));
    const listing = await (await fetch(`${store.hostUrl}/${store.bucket}?list-type=2`)).text();
    expect(listing).toContain('<Key>models/iris_tree_classifier.joblib</Key>');
  });

  it("answers the tutorial's curl through kubectl proxy", async () => {
    // The API server's service proxy picks a ready endpoint from the Service's Endpoints, which the endpoints
    // controller writes a moment after the pods turn ready (upstream's lags more than the sandbox's): wait for both.
    await waitForObject<V1Endpoints, boolean>(
      { client, path: `/api/v1/namespaces/${NAMESPACE}/endpoints`, name: SERVICE },
      (e) => (e?.subsets ?? []).flatMap((x) => x.addresses ?? []).length === 2,
      { timeoutMs: 60_000, description: 'the Service to have its two endpoints' },
    );
    // `kubectl proxy` as in the tutorial, on a free port rather than 8001 so tests never collide.
    proxy = spawn('kubectl', ['--kubeconfig', kubeconfig, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      proxy!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proxy!.on('exit', (code) => reject(new Error(`kubectl proxy exited with ${code}: ${out}`)));
    });
    const { stdout } = await promisify(execFile)('curl', [
      '--silent',
      '--show-error',
      '--write-out',
      '\n%{http_code}',
      `http://localhost:${port}/api/v1/namespaces/${NAMESPACE}/services/${SERVICE}/proxy/iris/v1/score`,
      '--request',
      'POST',
      '--header',
      'Content-Type: application/json',
      '--data',
      '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}',
    ]);
    const body = stdout.slice(0, stdout.lastIndexOf('\n'));
    expect(stdout.slice(stdout.lastIndexOf('\n') + 1), body).toBe('200');
    expect(JSON.parse(body)).toEqual({
      species_prediction: 'setosa',
      probabilities: 'setosa=1.0|versicolor=0.0|virginica=0.0',
      model_info: "DecisionTreeClassifier(class_weight='balanced', random_state=42)",
    });
  });
});
