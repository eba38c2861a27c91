import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { VERSION } from '../../src/cli/version.js';
import { apiServerProblems } from '../engine/plan/k8s-validate.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from the repository root, as a user would: `node --import tsx src/cli/main.ts ...args`. */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const BAD = 'test/cli/fixtures/bad-ini';
const WARNINGS = 'test/cli/fixtures/warnings';

describe('bodywork-deploy validate', () => {
  it('accepts the tutorial project and says how many stages and steps it has', async () => {
    const r = await cli('validate', 'examples/iris-pipeline');
    expect(r).toEqual({ code: 0, stdout: 'examples/iris-pipeline/bodywork.ini is a valid Bodywork project (2 stages in 2 steps)\n', stderr: '' });
  });

  it('accepts a YAML project', async () => {
    const r = await cli('validate', 'examples/yaml-pipeline');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('examples/yaml-pipeline/bodywork.yaml is a valid Bodywork project (3 stages in 3 steps)\n');
  });

  it('lists every problem with its file and line, ends with the count, and exits 2', async () => {
    const r = await cli('validate', BAD);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^test\/cli\/fixtures\/bad-ini\/bodywork\.ini:6: .*stage-2/);
    expect(lines[1]).toMatch(/^test\/cli\/fixtures\/bad-ini\/stage-1\/config\.ini:4: .*CPU_REQUEST/);
    expect(lines[2]).toBe('2 problems in test/cli/fixtures/bad-ini');
  });

  it('prints warnings but still exits 0 for a valid project', async () => {
    const r = await cli('validate', WARNINGS);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^test\/cli\/fixtures\/warnings\/bodywork\.ini: warning: /);
    expect(r.stdout).toBe('test/cli/fixtures/warnings/bodywork.yaml is a valid Bodywork project (1 stage in 1 step)\n');
  });

  it('reports a project too large to ship in ConfigMaps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bodywork-cli-'));
    try {
      await cp(join(repo, WARNINGS), dir, { recursive: true });
      await writeFile(join(dir, 'model.bin'), randomBytes(2 * 1024 * 1024));
      const r = await cli('validate', dir);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${dir}: model.bin (2.7 MiB) is larger than one ConfigMap holds (900 KiB)`);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`1 problem in ${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a directory that does not exist as a problem', async () => {
    const r = await cli('validate', 'test/cli/fixtures/no-such-project');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('1 problem in test/cli/fixtures/no-such-project');
  });
});

describe('bodywork-deploy plan', () => {
  it('prints the plan as a YAML stream of valid objects on stdout and a summary on stderr', async () => {
    const r = await cli('plan', 'examples/iris-pipeline', '--namespace', 'ml-pipeline', '--commit', '951d01c6f0a1');
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Job', 'Deployment', 'Service']);
    expect(objects.find((o) => o.kind === 'Job')?.metadata).toMatchObject({ name: 'bodywork-ml-pipeline-project--stage-1-train-model', namespace: 'ml-pipeline' });
    for (const o of objects) expect(apiServerProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    expect(r.stdout).toContain('value: 951d01c\n');
    expect(r.stderr).toMatch(/^planned 2 stages in 2 steps into namespace ml-pipeline: 8 objects, code [0-9a-f]{10} \(\d+ files\)\n$/);
  });

  it('names the Jobs as deploy creates them with --run-id', async () => {
    const r = await cli('plan', 'examples/yaml-pipeline', '--run-id', 'run-7');
    expect(r.code, r.stderr).toBe(0);
    const jobs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } }).filter((o) => o.kind === 'Job');
    expect(jobs.map((j) => j.metadata.name)).toEqual(['prepare-run-7']);
  });

  it('uses the image option for every stage', async () => {
    const r = await cli('plan', 'examples/yaml-pipeline', '--image', 'ghcr.io/acme/stage:2');
    expect(r.code).toBe(0);
    // Three stages in the DAG; the project file in the code ConfigMap still names its own image.
    expect(r.stdout.match(/^ {10}image: \S+$/gm)).toEqual(Array(3).fill('          image: ghcr.io/acme/stage:2'));
  });

  it('prints nothing on stdout and exits 2 when the project has problems', async () => {
    const r = await cli('plan', BAD);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('2 problems in test/cli/fixtures/bad-ini');
  });

  it('prints one JSON document with -o json: the steps, their stages and objects, and the objects; messages on stderr', async () => {
    const r = await cli('plan', 'examples/iris-pipeline', '--namespace', 'ml-pipeline', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { project: string; namespace: string; steps: { step: number; stages: { stage: string; type: string; objects: string[]; url?: string }[] }[]; objects: { kind: string; data?: Record<string, string> }[] };
    expect(doc).toMatchObject({ project: 'bodywork-ml-pipeline-project', namespace: 'ml-pipeline', image: expect.any(String) });
    expect(doc.steps.map((s) => [s.step, s.stages.map((st) => [st.stage, st.type])])).toEqual([
      [1, [['stage-1-train-model', 'batch']]],
      [2, [['stage-2-deploy-scoring-service', 'service']]],
    ]);
    expect(doc.steps[1].stages[0].url).toBe('http://bodywork-ml-pipeline-project--stage-2-deploy-scoring-service.ml-pipeline.svc.cluster.local:5000');
    expect(doc.objects.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Job', 'Deployment', 'Service']);
    // As in the YAML: the code is described, not printed.
    expect(Object.values(doc.objects[4].data ?? {}).every((v) => v.startsWith('<file content not shown: '))).toBe(true);
    expect(r.stderr).toMatch(/^planned 2 stages in 2 steps/);
  });

  it('exits 2 for a namespace that is not a valid name', async () => {
    const r = await cli('plan', WARNINGS, '--namespace', 'Not_Valid');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("error: namespace 'Not_Valid' is not a valid Kubernetes namespace name");
  });
});

describe('bodywork-deploy usage', () => {
  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await cli('--version')).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('prints help listing the commands and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: bodywork-deploy/);
    expect(r.stdout).toMatch(/validate \[dir\]/);
    expect(r.stdout).toMatch(/plan \[options\] \[dir\]/);
  });

  it.each([
    [['deploy-everything'], 'bodywork-deploy'],
    [['plan', '--no-such-option'], 'bodywork-deploy plan'],
    [['plan', '-o', 'xml'], 'bodywork-deploy plan'],
    [['status', '--output', 'yaml'], 'bodywork-deploy status'],
    [['validate', 'a', 'b'], 'bodywork-deploy validate'],
    [['secret', 'create'], 'bodywork-deploy secret create'],
  ])('exits 2 for bad usage, pointing to the help of the command used: %j', async (args, command) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`(run ${command} --help for usage)`);
  });

  it('exits 2 with usage for no command at all', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toBe('');
  });
});
