/**
 * `npm run fidelity`: the same scenarios through the embedded sandbox and the upstream control plane (with our node
 * attached), their observable results side by side, and a count of scenarios matched / differing. Upstream is the
 * judge: a difference is a sandbox defect to fix, or one to list with its reason in src/sandbox/apiserver/README.md.
 *
 * Usage: npm run fidelity [-- --only <substring>] [--verbose]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startSandbox } from '../../src/sandbox/index.js';
import { startUpstreamCluster } from '../support/upstream-cluster.js';
import { RawApi } from './http.js';
import type { Scenario, ScenarioEnv } from './scenario.js';
import { apiScenarios } from './scenarios-api.js';
import { workloadScenarios } from './scenarios-workloads.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, verbose: { type: 'boolean', default: false } } });
const scenarios = [...apiScenarios, ...workloadScenarios].filter((s) => !values.only || s.name.includes(values.only));
const log = values.verbose ? (m: string) => console.error(m) : () => {};

interface Target {
  name: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

async function targets(dir: string): Promise<Target[]> {
  const embedded = await startSandbox({ warn: () => {} });
  const upstream = await startUpstreamCluster({ kubeconfigPath: join(dir, 'upstream.kubeconfig'), node: { warn: () => {} }, log }).catch(async (err) => {
    await embedded.stop();
    throw err;
  });
  return [
    { name: 'embedded', kubeconfig: embedded.kubeconfig, stop: () => embedded.stop() },
    { name: `upstream ${upstream.version}`, kubeconfig: upstream.kubeconfig, stop: () => upstream.stop() },
  ];
}

function kubectlFor(dir: string, t: Target): ScenarioEnv {
  const file = join(dir, `${t.name.split(' ')[0]}.kubectl.kubeconfig`);
  writeFileSync(file, t.kubeconfig, { mode: 0o600 });
  return {
    kubectl: async (args) => (await promisify(execFile)('kubectl', ['--kubeconfig', file, ...args], { timeout: 60_000 })).stdout,
  };
}

async function runOne(api: RawApi, env: ScenarioEnv, s: Scenario, i: number): Promise<Record<string, unknown>> {
  const ns = `fidelity-${i}`;
  await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  try {
    return await s.run(api, ns, env);
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    await api.del(`/api/v1/namespaces/${ns}`).catch(() => {});
  }
}

const show = (v: unknown) => (v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v));

const dir = mkdtempSync(join(tmpdir(), 'bodywork-fidelity-'));
const ts = await targets(dir);
let matched = 0;
const differing: string[] = [];
try {
  const apis = ts.map((t) => ({ api: RawApi.fromKubeconfig(t.kubeconfig), env: kubectlFor(dir, t) }));
  for (const [i, s] of scenarios.entries()) {
    // Both control planes at once: the scenarios wait on controllers, so this halves the run.
    const results = await Promise.all(apis.map(({ api, env }) => runOne(api, env, s, i)));
    const keys = [...new Set(results.flatMap((r) => Object.keys(r)))];
    const diff = keys.filter((k) => show(results[0][k]) !== show(results[1][k]));
    if (diff.length === 0) matched++;
    else differing.push(s.name);
    console.log(`\n${diff.length === 0 ? 'MATCH' : 'DIFFER'}  ${s.name}`);
    const width = Math.max(...keys.map((k) => k.length));
    for (const k of keys) {
      const mark = diff.includes(k) ? '≠' : ' ';
      console.log(`  ${mark} ${k.padEnd(width)}  ${ts[0].name}: ${show(results[0][k])}`);
      if (diff.includes(k)) console.log(`    ${''.padEnd(width)}  ${ts[1].name}: ${show(results[1][k])}`);
    }
  }
} finally {
  for (const t of ts) await t.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${matched} matched, ${differing.length} differing (of ${scenarios.length} scenarios)`);
for (const d of differing) console.log(`  differing: ${d}`);
