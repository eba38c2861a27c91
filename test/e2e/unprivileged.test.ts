/**
 * The README's main job run by an unprivileged user: `bodywork-deploy deploy examples/iris-pipeline --sandbox` from
 * the committed bundle. Where the kernel lets that user make user namespaces, pods get rootless namespaces (a
 * network namespace and IP each, network/linux.ts); else (forced here with BODYWORK_SANDBOX_USERNS=0) they share the
 * host network, each on its own loopback address (network/loopback.ts). Either way the tutorial's two scoring
 * replicas both listen on port 5000 and both get ready (their probes reach them), and the service scores. As root,
 * the test drops to uid/gid 65534 with setpriv; as another user, it runs as that user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../src/engine/kube/index.js';
import { nullLogger } from '../../src/engine/logger.js';
import { repo, spawnWatched } from '../cli/support/run-cli.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const NAMESPACE = 'bodywork-ml-pipeline-project';

/** A directory tree the user can read and write: ours as a user, handed to uid 65534 as root. */
function userDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  if (asRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  return dir;
}

// Everything the run reads is copied out of the repository (which may sit where uid 65534 cannot go, as /root).
const root = mkdtempSync(join(tmpdir(), 'bodywork-unprivileged-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const usernsWorks = spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true'], asRoot ? { uid: NOBODY, gid: NOBODY } : {}).status === 0;

const MODES = [
  {
    mode: 'rootless namespaces',
    env: {},
    note: '(pods in rootless namespaces: not running as root)',
    podIP: /^10\.244\.\d+\.\d+$/,
  },
  {
    mode: 'the loopback fallback',
    env: { BODYWORK_SANDBOX_USERNS: '0' },
    note: '(pods on the host network: not running as root, and BODYWORK_SANDBOX_USERNS=0 turned user namespaces off)',
    podIP: /^127\.1\.\d+\.\d+$/,
  },
];

describe('the main job as an unprivileged user', () => {
  beforeAll(() => {
    cpSync(join(repo, 'dist', 'cli'), join(root, 'cli'), { recursive: true });
    cpSync(join(repo, 'examples', 'iris-pipeline'), join(root, 'project'), { recursive: true });
    cpSync(process.execPath, join(root, 'node'));
    userDir(join(root, 'home'));
    if (asRoot) chownSync(root, NOBODY, NOBODY);
  });

  it.for(MODES)('deploys the tutorial pipeline to its sandbox ($mode), with both scoring replicas on port 5000 ready, and scores', { timeout: 600_000 }, async (m, { skip }) => {
    if (m.mode === 'rootless namespaces' && !usernsWorks) skip('this kernel refuses user namespaces to the user');
    const node = join(root, 'node');
    // The tests' venv cache (vitest.config.ts), where moto is installed once: a sandbox run as root hands it to
    // uid 65534 already (kubelet/run-as.ts shareWithPods), whose pods install into it.
    const cache = userDir(process.env.BODYWORK_SANDBOX_CACHE ?? join(root, 'cache'));

    const env = { PATH: process.env.PATH, HOME: join(root, 'home'), LANG: 'C.UTF-8', BODYWORK_SANDBOX_CACHE: cache, ...m.env };
    const argv = [node, join(root, 'cli', 'index.js'), 'deploy', join(root, 'project'), '--sandbox'];
    const [file, ...args] = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...argv] : argv;
    const run = spawnWatched(file, args, { cwd: root, env });
    try {
      await run.waitFor(/the sandbox keeps serving; stop it with Ctrl-C\n/);
      // The results table goes to stdout, another pipe: it may arrive after the last line on stderr.
      await run.waitFor(/^stage-2-deploy-scoring-service\s+service\s+succeeded\s/m, 'stdout');
      const { stderr } = run.output();
      expect(stderr).toContain(m.note);
      expect(stderr).toContain('stage-2-deploy-scoring-service: 2/2 replicas ready');

      // Two replicas, two pod IPs, both ready: each listens on port 5000 at its own address.
      const kubeconfig = /^kubeconfig: (\S+)/m.exec(stderr)?.[1];
      expect(kubeconfig).toBeDefined();
      const client = KubeClient.create(loadKubeConfig({ path: kubeconfig! }).kc, nullLogger);
      const pods = (await client.list<V1Pod>('Pod', NAMESPACE, { labelSelector: 'stage=stage-2-deploy-scoring-service' })).items;
      const ips = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.status?.podIP);
      // On failure: each pod's phase, conditions and container states, and what the deploy printed.
      const states = pods.map((p) => ({ name: p.metadata?.name, ip: p.status?.podIP, conditions: p.status?.conditions, containers: p.status?.containerStatuses }));
      expect(ips, `${JSON.stringify(states, null, 1)}\n${stderr}`).toHaveLength(2);
      expect(new Set(ips).size).toBe(2);
      for (const ip of ips) expect(ip).toMatch(m.podIP);
      // Each server listened at the first try: a replica whose bind failed exits and restarts, and may look ready
      // meanwhile (its probe reaching the other's wildcard listener), so readiness alone proves nothing.
      expect(pods.map((p) => p.status?.containerStatuses?.[0]?.restartCount), JSON.stringify(states, null, 1)).toEqual([0, 0]);
      expect(stderr).not.toContain('Address already in use');

      // The tutorial's request, through the service's host URL.
      const url = /^ {2}stage-2-deploy-scoring-service: curl .* \(or directly: (http:\/\/127\.0\.0\.1:\d+)\/<path>\)$/m.exec(stderr)?.[1];
      expect(url, stderr).toBeDefined();
      const rsp = await fetch(`${url}/iris/v1/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }),
      });
      expect(rsp.status).toBe(200);
      expect(((await rsp.json()) as { species_prediction: string }).species_prediction).toBe('setosa');
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toBe(0);
    expect(run.output().stderr).toContain('stopping the sandbox');
  });
});
