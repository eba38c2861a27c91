/**
 * The sandbox's Python environments. Needs Debian's /usr/bin/python3 with python3-venv, python3-pip and python3-flask
 * (CI: apt-get install python3-venv python3-pip python3-flask). No network: this machine has no PyPI access.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StageSpec } from '../../../src/engine/config/spec.js';
import { stageCommand } from '../../../src/engine/plan/command.js';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { familiarImage } from '../../../src/sandbox/machinery/images.js';
import { createPythonEnvironments, resolvePython, type PythonEnvironments } from '../../../src/sandbox/python/index.js';
import { shareWithPods } from '../../../src/sandbox/kubelet/run-as.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { job, startHarness, waitFor, type Harness } from '../controllers/helpers.js';
import { sandboxFetch } from '../apiserver/helpers.js';

const SYS_PY = '/usr/bin/python3';
const IMAGE = 'bodyworkml/bodywork-core:latest';

function sysPy(args: string[]): string {
  return execFileSync(SYS_PY, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: os.homedir() }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What the host's own Python has installed: pip's view and the site directories' listings. */
function hostSnapshot(): string {
  const dirs = JSON.parse(sysPy(['-c', 'import json, site, sys; print(json.dumps(sorted(set(site.getsitepackages() + [site.getusersitepackages()]))))'])) as string[];
  const listing = dirs.map((d) => `${d}: ${fs.existsSync(d) ? fs.readdirSync(d).sort().join(',') : '-'}`);
  return [sysPy(['-m', 'pip', 'list', '--format=freeze', '--disable-pip-version-check']), ...listing].join('\n');
}

/** A minimal pure-Python wheel, so a test can really install something offline. */
function buildWheel(dir: string): string {
  const script = String.raw`
import base64, hashlib, sys, zipfile
out = sys.argv[1]
files = {
  'bwsbx_probe/__init__.py': 'VALUE = "probe"\n',
  'bwsbx_probe-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: bwsbx-probe\nVersion: 1.0\n',
  'bwsbx_probe-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
record = []
with zipfile.ZipFile(out, 'w') as z:
  for name, text in files.items():
    data = text.encode()
    z.writestr(name, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record.append('%s,sha256=%s,%d' % (name, digest, len(data)))
  record.append('bwsbx_probe-1.0.dist-info/RECORD,,')
  z.writestr('bwsbx_probe-1.0.dist-info/RECORD', '\n'.join(record) + '\n')
`;
  const whl = path.join(dir, 'bwsbx_probe-1.0-py3-none-any.whl');
  execFileSync(SYS_PY, ['-c', script, whl]);
  return whl;
}

function pod(name: string, script: string, image = IMAGE): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['/bin/sh', '-c', script] }] },
  };
}

async function podLog(h: { kubelet?: Harness['kubelet'] }, name: string, open?: (name: string) => NodeJS.ReadableStream): Promise<string> {
  const stream = open ? open(name) : h.kubelet!.logs.open('default', name, {});
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

const finished = (h: Harness, name: string) => (): KubeObject | undefined => {
  const p = h.store.find('pods', 'default', name);
  return p && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') ? p : undefined;
};

beforeAll(() => {
  try {
    sysPy(['-c', 'import flask, pip, venv']);
  } catch (err) {
    throw new Error(`these tests need ${SYS_PY} with python3-venv, python3-pip and python3-flask (apt-get install -y python3-venv python3-pip python3-flask): ${String(err)}`, { cause: err });
  }
});

describe('python environments (unit)', () => {
  let dir: string;
  let envs: PythonEnvironments;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-python-'));
    envs = createPythonEnvironments({ dataDir: path.join(dir, 'cache') });
  });
  afterAll(async () => {
    await envs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('defaults to Debian python3 and builds a container env with the venv first on PATH', () => {
    expect(envs.python).toBe(SYS_PY);
    const env = envs.containerEnv('busybox', { PATH: '/usr/bin:/bin' });
    expect(env.VIRTUAL_ENV).toMatch(new RegExp(`^${dir}/cache/venvs/busybox_latest-[0-9a-f]{12}$`));
    const parts = env.PATH.split(':');
    expect(parts[0]).toBe(`${env.VIRTUAL_ENV}/bin`);
    expect(parts[1]).toMatch(/\/shims\//);
    expect(parts.slice(2)).toEqual(['/usr/bin', '/bin']);
    expect(env).toMatchObject({ PIP_DEFAULT_TIMEOUT: '5', PIP_RETRIES: '1', PIP_REQUIRE_VIRTUALENV: '1', PYTHONNOUSERSITE: '1', PIP_CACHE_DIR: `${dir}/cache/pip-cache` });
    // Same image label, same venv; another image, another venv.
    expect(envs.containerEnv('busybox:latest').VIRTUAL_ENV).toBe(env.VIRTUAL_ENV);
    expect(envs.containerEnv('busybox:1.36').VIRTUAL_ENV).not.toBe(env.VIRTUAL_ENV);
    expect(familiarImage('registry:5000/x')).toBe('registry:5000/x:latest');
    expect(familiarImage('x@sha256:abc')).toBe('x@sha256:abc');
    // One image written the long way is the same image (the kubelet's normalisation, machinery/images.ts).
    expect(envs.containerEnv('docker.io/library/busybox').VIRTUAL_ENV).toBe(env.VIRTUAL_ENV);
    expect(fs.existsSync(env.VIRTUAL_ENV)).toBe(false); // lazy
  });

  it('chooses the interpreter: an explicit path, a command on PATH, else Debian python3', () => {
    expect(resolvePython(undefined, '/nowhere')).toBe(SYS_PY);
    expect(resolvePython('python3', `/nowhere:${path.dirname(SYS_PY)}`)).toBe(SYS_PY);
    expect(resolvePython('/nonexistent/python9')).toBe('/nonexistent/python9');
    const other = createPythonEnvironments({ dataDir: path.join(dir, 'other'), python: '/nonexistent/python9' });
    expect(other.python).toBe('/nonexistent/python9');
    // Another interpreter, other venvs.
    expect(other.containerEnv('busybox').VIRTUAL_ENV).not.toBe(envs.containerEnv('busybox').VIRTUAL_ENV.replace('/cache/', '/other/'));
    // Its shims fail like a missing command, saying why.
    const shim = other.containerEnv('busybox').PATH.split(':')[1];
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(path.join(shim, 'python'), ['-c', 'pass'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      failure = err as typeof failure;
    }
    expect(failure.status).toBe(127);
    expect(failure.stderr).toContain("sandbox: no Python interpreter at /nonexistent/python9 (the sandbox's python.executable option)");
  });

  it('environmentFor creates the venv once, with the system site-packages, even for concurrent callers', async () => {
    const [a, b] = await Promise.all([envs.environmentFor('img-a'), envs.environmentFor('img-a')]);
    expect(a.venvDir).toBe(b.venvDir);
    expect(fs.readFileSync(path.join(a.venvDir, 'pyvenv.cfg'), 'utf8')).toMatch(/include-system-site-packages = true/);
    const out = execFileSync(path.join(a.binDir, 'python'), ['-c', 'import sys, flask; print(sys.prefix); print(flask.__file__)'], { encoding: 'utf8' });
    expect(out.split('\n')[0]).toBe(a.venvDir);
    expect(out.split('\n')[1]).toMatch(/^\/usr\/lib\/python3\/dist-packages\/flask\//);
    await envs.environmentFor('img-a');
    expect(envs.creations().filter((c) => c.image === 'img-a:latest')).toHaveLength(1);
    expect(fs.readdirSync(path.dirname(a.venvDir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('serializes pip runs in one venv with a lock', async () => {
    const e = await envs.environmentFor('img-lock');
    const lockFile = path.join(e.venvDir, '.bodywork-sandbox-pip.lock');
    // Another "pod" holds the venv's pip lock until its stdin closes.
    const holder = spawn(
      SYS_PY,
      ['-c', `import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\nfcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()`, lockFile],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const holderExited = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const env = { ...e.env, HOME: os.homedir() };
    // python itself does not take the lock: it finishes while the lock is held (were it waiting, the test would hang).
    execFileSync(path.join(e.binDir, 'python'), ['-c', 'pass'], { env });
    // pip does: it says it waits (the hook's message, on stderr), and finishes once the holder lets go.
    const pip = spawn(path.join(e.binDir, 'pip'), ['--version'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    pip.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => pip.once('exit', resolve));
    await new Promise<void>((resolve) => pip.stderr!.on('data', (d: Buffer) => (err += d.toString()).includes('waiting for another pip run') && resolve()));
    expect(out).toBe('');
    holder.stdin!.end();
    expect(await exited).toBe(0);
    expect(out).toMatch(/^pip \d/);
    await holderExited;
  });
});

describe('python environments in pods', () => {
  let h: Harness;
  let dir: string;
  let envs: PythonEnvironments;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-python-pods-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const start = async (cache: string): Promise<void> => {
    envs = createPythonEnvironments({ dataDir: path.join(dir, cache) });
    // As root, pods run as 65534 and create venvs and install into this cache, as startSandbox arranges.
    shareWithPods(path.join(dir, cache));
    h = await startHarness({ kubelet: { containerEnv: (_pod, c, base) => envs.containerEnv(c.image ?? '', base) } });
  };
  afterEach(async () => {
    await h?.stop();
    await envs?.close();
  });

  it('pip install of a system-satisfied requirement works offline in the venv; a real install lands in the venv; the host Python is untouched', async () => {
    await start('offline');
    const whl = buildWheel(dir);
    const before = hostSnapshot();
    const script = [
      'set -e',
      'pip install flask',
      `pip install --no-index ${whl}`,
      `python -c "import flask, sys, bwsbx_probe; print('prefix=' + sys.prefix); print('flask=' + flask.__file__); print('probe=' + bwsbx_probe.__file__)"`,
      'echo "which=$(command -v python)"',
      // pip outside a venv refuses to install (PIP_REQUIRE_VIRTUALENV), whatever the host allows.
      `if ${SYS_PY} -m pip install --no-index ${whl} >/dev/null 2>&1; then echo host-install=yes; else echo host-install=refused; fi`,
    ].join('\n');
    h.store.create('pods', 'default', pod('offline', script));
    const p = await waitFor(h.store, finished(h, 'offline'), 'offline pod finished', 60_000);
    const log = await podLog(h, 'offline');
    expect(p.status.phase, log).toBe('Succeeded');
    const venv = envs.containerEnv(IMAGE).VIRTUAL_ENV;
    expect(venv.startsWith(`${dir}/offline/venvs/bodyworkml_bodywork-core_latest-`)).toBe(true);
    expect(log).toMatch(/Requirement already satisfied: flask in \/usr\/lib\/python3\/dist-packages/);
    expect(log).toContain(`prefix=${venv}\n`);
    expect(log).toMatch(/flask=\/usr\/lib\/python3\/dist-packages\/flask\/__init__\.py/);
    expect(log).toMatch(new RegExp(`probe=${venv}/lib/python3\\.\\d+/site-packages/bwsbx_probe/__init__\\.py`));
    expect(log).toContain(`which=${venv}/bin/python\n`);
    expect(log).toContain('host-install=refused');
    expect(log).toContain('sandbox: creating the Python environment of image bodyworkml/bodywork-core:latest');
    expect(hostSnapshot()).toBe(before);
    expect(() => sysPy(['-c', 'import bwsbx_probe'])).toThrow();
  });

  it("runs a Bodywork stage's command (python -m pip install -r requirements.txt; exec python train_model.py) offline", async () => {
    await start('stage');
    const root = path.join(dir, 'project');
    fs.mkdirSync(path.join(root, 'stage-1'), { recursive: true });
    fs.writeFileSync(path.join(root, 'stage-1', 'requirements.txt'), 'scikit-learn\njoblib\nnumpy\npandas\nflask\n');
    fs.writeFileSync(
      path.join(root, 'stage-1', 'train_model.py'),
      'import sys, flask, joblib, numpy, pandas, sklearn\nprint("prefix=" + sys.prefix)\nprint("sklearn=" + sklearn.__file__)\nprint("args=" + ",".join(sys.argv[1:]))\n',
    );
    const stage = { name: 'stage-1', executable: 'stage-1/train_model.py', args: ['a b'], requirements: ['scikit-learn'], requirementsFile: 'stage-1/requirements.txt' } as StageSpec;
    const p0 = pod('stage', '');
    p0.spec.containers[0].command = stageCommand(stage, root);
    h.store.create('pods', 'default', p0);
    const p = await waitFor(h.store, finished(h, 'stage'), 'stage pod finished', 60_000);
    const log = await podLog(h, 'stage');
    expect(p.status.phase, log).toBe('Succeeded');
    expect(log).toMatch(/Requirement already satisfied: scikit-learn in \/usr\/lib\/python3\/dist-packages/);
    expect(log).toContain(`prefix=${envs.containerEnv(IMAGE).VIRTUAL_ENV}\n`);
    expect(log).toMatch(/sklearn=\/usr\/lib\/python3\/dist-packages\/sklearn\//);
    expect(log).toContain('args=a b\n');
  });

  it('a requirement that cannot be installed fails the Job quickly, with pip error in the pod log', async () => {
    await start('failing');
    await envs.environmentFor('busybox'); // the harness's job() image
    const j = h.store.create('batch/jobs', 'default', job('nopkg', 'set -e\npip install some-package-that-does-not-exist-xyz\necho not-reached', { backoffLimit: 0 }));
    const failed = await waitFor(
      h.store,
      () => h.store.get('batch/jobs', 'default', 'nopkg').status?.conditions?.find((c: any) => c.type === 'Failed' && c.status === 'True'),
      'job failed',
      60_000,
    );
    expect(failed.reason).toBe('BackoffLimitExceeded');
    const [p] = h.store.list('pods', 'default').items.filter((x) => x.metadata.ownerReferences?.some((r: any) => r.uid === j.metadata.uid));
    const term = p.status.containerStatuses[0].state.terminated;
    expect(term.exitCode).not.toBe(0);
    const log = await podLog(h, p.metadata.name!);
    expect(log).toMatch(/No matching distribution found for some-package-that-does-not-exist-xyz/);
    expect(log).not.toContain('not-reached');
    // PIP_RETRIES=1: at most one retry per request (pip's default, 5 with back-off, takes ~10 s offline here).
    expect(log).not.toMatch(/Retry\(total=[1-9]/);
  });

  it('pods of one image reuse its cached venv (created once, also when started together); another image gets its own', async () => {
    await start('reuse');
    const script = 'python -c "import sys; print(\'prefix=\' + sys.prefix)"';
    h.store.create('pods', 'default', pod('one', script));
    h.store.create('pods', 'default', pod('two', `pip --version >/dev/null && ${script}`));
    await waitFor(h.store, () => finished(h, 'one')() && finished(h, 'two')(), 'first pods finished', 60_000);
    h.store.create('pods', 'default', pod('three', script));
    h.store.create('pods', 'default', pod('other', script, 'python:3.11'));
    await waitFor(h.store, () => finished(h, 'three')() && finished(h, 'other')(), 'later pods finished', 60_000);
    const logs = Object.fromEntries(await Promise.all(['one', 'two', 'three', 'other'].map(async (n) => [n, await podLog(h, n)] as const)));
    for (const n of ['one', 'two', 'three', 'other']) expect(h.store.get('pods', 'default', n).status.phase, logs[n]).toBe('Succeeded');
    const prefix = (s: string): string | undefined => /prefix=(.*)\n/.exec(s)?.[1];
    expect(prefix(logs.one)).toBe(envs.containerEnv(IMAGE).VIRTUAL_ENV);
    expect(prefix(logs.two)).toBe(prefix(logs.one));
    expect(prefix(logs.three)).toBe(prefix(logs.one));
    expect(prefix(logs.other)).toBe(envs.containerEnv('python:3.11').VIRTUAL_ENV);
    expect(prefix(logs.other)).not.toBe(prefix(logs.one));
    // Created once per image; the third pod found it ready (no creation message).
    expect(envs.creations().map((c) => c.image).sort()).toEqual([IMAGE, 'python:3.11'].sort());
    expect(logs.three).not.toContain('sandbox: creating');
    expect([logs.one, logs.two].filter((l) => l.includes('sandbox: creating the Python environment'))).toHaveLength(1);
  });
});

describe('startSandbox wiring', () => {
  let sb: Sandbox | undefined;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-python-sb-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = async (s: Sandbox, name: string, script: string): Promise<string> => {
    s.store.create('pods', 'default', pod(name, script));
    await waitFor(s.store, () => ['Succeeded', 'Failed'].includes(s.store.find('pods', 'default', name)?.status?.phase), `${name} finished`, 60_000);
    const res = await sandboxFetch(s)(`${s.url}/api/v1/namespaces/default/pods/${name}/log`);
    return res.text();
  };

  it('gives pods the Python environment by default (cacheDir option) and the node the configured capacity', async () => {
    sb = await startSandbox({ python: { cacheDir: path.join(dir, 'cache') }, capacity: { cpu: '1500m', memory: '2Gi' } });
    const node = sb.store.get('nodes', undefined, 'sandbox');
    expect(node.status.capacity).toMatchObject({ cpu: '1500m', memory: '2097152Ki' });
    expect(node.status.allocatable).toMatchObject({ cpu: '1500m', memory: '2097152Ki' });
    const log = await run(sb, 'py', 'python -c "import sys; print(sys.prefix)"');
    expect(log.trim().split('\n').pop()).toMatch(new RegExp(`^${dir}/cache/venvs/bodyworkml_bodywork-core_latest-[0-9a-f]{12}$`));
    // The capacity reaches the scheduler: 2 cpus do not fit on 1.5.
    const big = pod('big', 'echo never');
    big.spec.containers[0].resources = { requests: { cpu: '2' } };
    sb.store.create('pods', 'default', big);
    const cond = await waitFor(sb.store, () => sb!.store.get('pods', 'default', 'big').status?.conditions?.find((c: any) => c.type === 'PodScheduled'), 'big PodScheduled');
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expect.stringMatching(/^0\/1 nodes are available: 1 Insufficient cpu\. /) });
  });

  it('python: false leaves PATH as the host has it', async () => {
    sb = await startSandbox({ python: false });
    const log = await run(sb, 'nopy', 'echo "venv=${VIRTUAL_ENV:-none}"');
    expect(log).toContain('venv=none');
  });
});
