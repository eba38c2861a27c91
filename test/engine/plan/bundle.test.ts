import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_LIMIT_BYTES,
  BundleError,
  CONFIGMAP_BUDGET_BYTES,
  bundleProject,
  configMapKeys,
  planObjects,
  planProject,
} from '../../../src/engine/plan/index.js';
import { apiServerProblems } from './k8s-validate.js';
import { irisPipelineSpec } from './specs.js';

const dirs: string[] = [];

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bodywork-bundle-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const tutorialFiles = {
  'bodywork.ini': '[default]\nPROJECT_NAME=bodywork-ml-pipeline-project\n',
  'stage-1-train-model/config.ini': '[default]\nSTAGE_TYPE=batch\n',
  'stage-1-train-model/requirements.txt': 'boto3==1.16.15\n',
  'stage-1-train-model/train_model.py': 'print("train")\n',
  'stage-2-deploy-scoring-service/serve_model.py': 'print("serve")\n',
};

/** Random bytes that do not compress into text: every ConfigMap gets its share through base64. */
function noise(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

describe('bundleProject', () => {
  it('packs every project file into one immutable ConfigMap named by content hash', async () => {
    const root = await project(tutorialFiles);
    const bundle = await bundleProject({ root, name: 'bodywork-ml-pipeline-project' });
    expect(bundle.files).toEqual(Object.keys(tutorialFiles).sort());
    expect(bundle.configMaps).toHaveLength(1);
    const [cm] = bundle.configMaps;
    expect(cm?.metadata?.name).toBe(`bodywork-ml-pipeline-project-code-${bundle.hash.slice(0, 10)}`);
    expect(cm?.immutable).toBe(true);
    expect(cm?.data?.['stage-1-train-model__train_model.py']).toBe('print("train")\n');
    expect(bundle.volume.projected?.sources?.[0]?.configMap?.items).toContainEqual({ key: 'stage-1-train-model__train_model.py', path: 'stage-1-train-model/train_model.py' });
  });

  it('gives the same name to the same files and a new name when one byte changes', async () => {
    const a = await bundleProject({ root: await project(tutorialFiles), name: 'p' });
    const b = await bundleProject({ root: await project(tutorialFiles), name: 'p' });
    const c = await bundleProject({ root: await project({ ...tutorialFiles, 'stage-1-train-model/train_model.py': 'print("trains")\n' }), name: 'p' });
    expect(b.configMaps[0]?.metadata?.name).toBe(a.configMaps[0]?.metadata?.name);
    expect(c.configMaps[0]?.metadata?.name).not.toBe(a.configMaps[0]?.metadata?.name);
  });

  it('gives a new name when a file is renamed, even with the same content', async () => {
    const a = await bundleProject({ root: await project({ 'a.py': 'x' }), name: 'p' });
    const b = await bundleProject({ root: await project({ 'b.py': 'x' }), name: 'p' });
    expect(b.hash).not.toBe(a.hash);
  });

  it('leaves out version control, virtual environments and Python caches', async () => {
    const root = await project({
      ...tutorialFiles,
      '.git/HEAD': 'ref: refs/heads/main\n',
      'node_modules/x/index.js': '',
      'stage-1-train-model/__pycache__/train_model.cpython-39.pyc': Buffer.from([0, 1, 2]),
      '.venv/bin/python': '',
      'lib/helper.pyc': Buffer.from([0]),
    });
    const bundle = await bundleProject({ root, name: 'p' });
    expect(bundle.files).toEqual(Object.keys(tutorialFiles).sort());
  });

  it('follows symlinked files inside the project and skips dangling links', async () => {
    const root = await project(tutorialFiles);
    await symlink(join(root, 'bodywork.ini'), join(root, 'linked.ini'));
    await symlink(join(root, 'missing.txt'), join(root, 'dangling.txt'));
    const bundle = await bundleProject({ root, name: 'p' });
    expect(bundle.files).toContain('linked.ini');
    expect(bundle.files).not.toContain('dangling.txt');
  });

  it('refuses a symlink to a file outside the project, so no file of the machine leaks into the cluster', async () => {
    const outside = await project({ 'secret.txt': 'token' });
    const root = await project(tutorialFiles);
    await symlink(join(outside, 'secret.txt'), join(root, 'innocent.txt'));
    const error = await bundleProject({ root, name: 'p' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/^innocent\.txt links to .*secret\.txt, outside the project directory/);
  });

  it('stores non-UTF-8 files base64-encoded in binaryData', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]);
    const bundle = await bundleProject({ root: await project({ 'model/weights.bin': png, 'main.py': 'ok' }), name: 'p' });
    const [cm] = bundle.configMaps;
    expect(cm?.binaryData).toEqual({ 'model__weights.bin': png.toString('base64') });
    expect(cm?.data).toEqual({ 'main.py': 'ok' });
  });

  it('splits a large project across ConfigMaps, each under the budget, all in one projected volume', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 5; i++) files[`data/part-${i}.bin`] = noise(400 * 1024, i + 1);
    const bundle = await bundleProject({ root: await project(files), name: 'p' });
    expect(bundle.configMaps.length).toBeGreaterThan(1);
    const names = bundle.configMaps.map((cm) => cm.metadata?.name);
    expect(names).toEqual(names.map((_, i) => `p-code-${bundle.hash.slice(0, 10)}-${i + 1}`));
    for (const cm of bundle.configMaps) {
      expect(Buffer.byteLength(JSON.stringify(cm))).toBeLessThan(CONFIGMAP_BUDGET_BYTES + 4096);
      expect(apiServerProblems({ ...cm, metadata: { ...cm.metadata, namespace: 'ns' } })).toEqual([]);
    }
    const sources = bundle.volume.projected?.sources ?? [];
    expect(sources.map((s) => s.configMap?.name)).toEqual(names);
    expect(sources.flatMap((s) => s.configMap?.items?.map((i) => i.path) ?? []).sort()).toEqual(Object.keys(files).sort());
  });

  it('refuses a project over the total limit, naming the limit and the git code source', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) files[`data/part-${i}.bin`] = noise(600 * 1024, i + 1);
    const error = await bundleProject({ root: await project(files), name: 'p' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/^the project's files take 9\.4 MiB in ConfigMaps, more than the 8\.0 MiB limit: .*`git` code source \(code-source: git\)/);
    expect(BUNDLE_LIMIT_BYTES).toBe(8 * 1024 * 1024);
  });

  it('refuses a single file too large for one ConfigMap, naming it', async () => {
    const error = await bundleProject({ root: await project({ 'model.joblib': noise(800 * 1024, 7) }), name: 'p' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/^model\.joblib \(1\.0 MiB\) is larger than one ConfigMap holds \(900 KiB\)/);
  });

  it('gives the planned pods the bundle, so every planned object stays valid', async () => {
    const bundle = await bundleProject({ root: await project(tutorialFiles), name: 'bodywork-ml-pipeline-project' });
    const plan = planProject(irisPipelineSpec(), { codeBundle: bundle });
    for (const object of planObjects(plan)) expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
    expect(plan.setup.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata?.namespace)).toEqual(['bodywork-ml-pipeline-project']);
  });
});

describe('configMapKeys', () => {
  it('flattens paths into distinct valid keys', () => {
    const keys = configMapKeys(['a/b.py', 'a__b.py', 'dir with space/ü.py', '..hidden']);
    expect(keys.get('a/b.py')).toBe('a__b.py');
    expect(keys.get('a__b.py')).toMatch(/^a__b\.py-[0-9a-f]{8}$/);
    expect(keys.get('dir with space/ü.py')).toBe('dir_with_space___.py');
    expect(keys.get('..hidden')).toBe('_..hidden');
    expect(new Set(keys.values()).size).toBe(4);
  });
});
