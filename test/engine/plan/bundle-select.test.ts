/**
 * What the code bundle takes from the workspace: tracked files in a git checkout, files .gitignore does not
 * exclude otherwise, never credential-looking files; and the plan's outputs list files without their contents.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPlanSummary } from '../../../src/action/plan-summary.js';
import { loadProject } from '../../../src/engine/config/load.js';
import { BundleError, bundleProject, planProject } from '../../../src/engine/plan/index.js';
import { renderPlanYaml } from '../../../src/engine/plan/render.js';
import { sensitiveReason } from '../../../src/engine/plan/sensitive-files.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });
}

const PROJECT = {
  'bodywork.ini': '[default]\nPROJECT_NAME=leaky\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n[workflow]\nDAG=stage-1\n[logging]\nLOG_LEVEL=INFO\n',
  'stage-1/config.ini':
    '[default]\nSTAGE_TYPE=batch\nEXECUTABLE_SCRIPT=train.py\nCPU_REQUEST=0.5\nMEMORY_REQUEST_MB=100\n[batch]\nMAX_COMPLETION_TIME_SECONDS=30\nRETRIES=0\n',
  'stage-1/train.py': 'print("train")\n',
  '.gitignore': 'data/\n*.log\n',
};
/** What cloud-auth actions, dotenv and ssh leave in a workspace: none of it may reach the cluster or the summary. */
const SECRETS = {
  '.env': 'AWS_SECRET_ACCESS_KEY=env-secret-0123456789\n',
  '.ssh/id_rsa': '-----BEGIN OPENSSH PRIVATE KEY-----\nssh-secret-0123456789\n-----END OPENSSH PRIVATE KEY-----\n',
  'gha-creds-x.json': '{"private_key": "gcp-secret-0123456789"}\n',
};
const IGNORED = { 'data/train.csv': 'ignored-data-0123456789\n', 'run.log': 'ignored-log-0123456789\n' };
const SECRET_TEXT = ['env-secret-0123456789', 'ssh-secret-0123456789', 'gcp-secret-0123456789', 'ignored-data-0123456789', 'ignored-log-0123456789'];

/** The bundle's files, and everything the plan prints (the YAML and the action's job summary). */
async function shipped(root: string) {
  const { spec, problems } = await loadProject(root);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  const debug: string[] = [];
  const bundle = await bundleProject(spec!, (m) => debug.push(m));
  const plan = planProject(spec!, { codeBundle: bundle, commitSha: 'a'.repeat(40), runId: '1' });
  const printed = renderPlanYaml(plan) + (await renderPlanSummary(plan, {} as Parameters<typeof renderPlanSummary>[1]));
  return { bundle, debug, printed, plan };
}

describe('the code bundle takes only what stages need', () => {
  it('in a git checkout: tracked files only, never untracked, ignored or credential files; the plan prints none of them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bodywork-select-'));
    dirs.push(root);
    await write(root, { ...PROJECT, ...SECRETS, ...IGNORED, 'notes-untracked.md': 'untracked\n' });
    git(root, 'init', '-q');
    git(root, 'add', ...Object.keys(PROJECT));
    const { bundle, debug, printed } = await shipped(root);
    expect(bundle.files).toEqual(['.gitignore', 'bodywork.ini', 'stage-1/config.ini', 'stage-1/train.py']);
    for (const text of SECRET_TEXT) expect(printed).not.toContain(text);
    expect(debug).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^code bundle: left out \.env \(not tracked by git\)/),
        expect.stringMatching(/^code bundle: left out notes-untracked\.md \(not tracked by git\)/),
        expect.stringMatching(/^code bundle: left out data\/ \(ignored by \.gitignore\)/),
      ]),
    );
  });

  it('in a git checkout, a credential file left out even when tracked, and a project in a subdirectory of the repository', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'bodywork-select-'));
    dirs.push(repo);
    const root = join(repo, 'ml', 'project');
    await write(repo, { 'outside.txt': 'outside-0123456789\n' });
    await write(root, { ...PROJECT, ...SECRETS });
    git(repo, 'init', '-q');
    git(repo, 'add', '-f', '.');
    const { bundle, debug, printed } = await shipped(root);
    expect(bundle.files).toEqual(['.gitignore', 'bodywork.ini', 'stage-1/config.ini', 'stage-1/train.py']);
    for (const text of [...SECRET_TEXT, 'outside-0123456789']) expect(printed).not.toContain(text);
    expect(debug).toContainEqual(expect.stringMatching(/^code bundle: left out \.ssh\/id_rsa \(an SSH private key/));
  });

  it('without git: .gitignore honoured, credential files left out; the plan prints none of them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bodywork-select-'));
    dirs.push(root);
    await write(root, { ...PROJECT, ...SECRETS, ...IGNORED, 'stage-1/.gitignore': 'scratch.py\n', 'stage-1/scratch.py': 'ignored-nested-0123456789' });
    const { bundle, debug, printed } = await shipped(root);
    expect(bundle.files).toEqual(['.gitignore', 'bodywork.ini', 'stage-1/.gitignore', 'stage-1/config.ini', 'stage-1/train.py']);
    for (const text of [...SECRET_TEXT, 'ignored-nested-0123456789']) expect(printed).not.toContain(text);
    expect(debug).toContainEqual(expect.stringMatching(/^code bundle: left out gha-creds-x\.json \(/));
    expect(debug).toContainEqual('code bundle: left out data/ (ignored by .gitignore)');
  });

  it('refuses a project whose stage script git does not track, naming it, instead of shipping a bundle without it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bodywork-select-'));
    dirs.push(root);
    await write(root, PROJECT);
    git(root, 'init', '-q');
    git(root, 'add', 'bodywork.ini', 'stage-1/config.ini');
    const { spec } = await loadProject(root);
    const error = await bundleProject(spec!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toContain('stage-1/train.py is not tracked by git');
  });

  it('lists bundled files with sizes and sha256 in the summary and the YAML, never their contents', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bodywork-select-'));
    dirs.push(root);
    await write(root, PROJECT);
    const { printed, bundle } = await shipped(root);
    expect(printed).not.toContain('print("train")');
    const train = bundle.entries.find((e) => e.path === 'stage-1/train.py');
    expect(train).toEqual({ path: 'stage-1/train.py', bytes: 15, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
    expect(printed).toContain(train!.sha256);
  });
});

describe('sensitiveReason', () => {
  it.each([
    '.env',
    'sub/.env.production',
    '.npmrc',
    '.pypirc',
    '.netrc',
    '.git-credentials',
    'keys/id_rsa',
    'id_ed25519',
    'tls/server.pem',
    'tls/server.key',
    'kubeconfig',
    'ci/prod.kubeconfig',
    '.kube/config',
    'gha-creds-1234abcd.json',
    '.aws/credentials',
    'x/.ssh/known_hosts',
    '.gnupg/pubring.kbx',
    '.docker/config.json',
  ])('leaves out %s', (path) => {
    expect(sensitiveReason(path)).toBeDefined();
  });

  it.each(['train.py', 'environment.yml', 'keyboard.py', 'docs/pem-format.md', 'docker/config.json', 'config.ini'])('keeps %s', (path) => {
    expect(sensitiveReason(path)).toBeUndefined();
  });
});
