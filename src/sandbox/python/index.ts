/**
 * Python environments for the sandbox's containers. Stage containers run `pip install …` and `python …`; on a cluster
 * they do so inside their image. In the sandbox images are labels, so each image gets a virtual environment instead,
 * and a container's `python`, `python3`, `pip`, `pip3` resolve to it - never to the host's own Python:
 *
 * - **One venv per image** (`<dataDir>/venvs/<image-slug>-<hash of image + interpreter's real path>`), created with
 *   `python3 -m venv --system-site-packages` from the system interpreter (default Debian's `/usr/bin/python3`, which
 *   CI provisions with python3-flask, python3-sklearn, … ; the pyenv `python3` first on PATH lacks them). A requirement
 *   the system already satisfies installs nothing and needs no network: pip sees the system site-packages.
 * - **Installs go into the image's venv and stay there** (cached and reused by every later pod of the image), rather
 *   than one venv per requirement set: the requirements are only known inside the container's shell script (`pip
 *   install -r <mounted file>`, several pip calls, …), so the kubelet cannot pick a venv before the container starts,
 *   and whatever the script installs must be what its later `python` sees. pip's own records in the venv
 *   (`<venv>/bin/pip list --local`) say what was installed. The trade-off: pods of one image share installs (like a
 *   node whose image cache was warmed), and conflicting pins of two stages reinstall over each other.
 * - **Locks**: creation takes an flock and renames a complete temporary venv into place (a venv directory that exists
 *   is complete); every pip run in a venv holds that venv's pip flock (a site hook), so concurrent pods never install
 *   into one venv at once.
 * - **Lazy creation**: the container env (KubeletOptions.containerEnv, applied like an image's ENV) puts `<venv>/bin`
 *   then a shim directory first on PATH. Until the venv exists, the shims' `python`/`pip` create it (output in the pod
 *   log; a failure fails the container) and run the venv's. Pods that never run Python never create one.
 *   `environmentFor(image)` creates it up front.
 * - **Every image** gets the environment (images are labels). A container whose own `env` sets PATH overrides it, as a
 *   pod's env overrides an image's ENV on a cluster.
 * - **Offline**: `PIP_DEFAULT_TIMEOUT` (5 s) and `PIP_RETRIES` (1) make a requirement that cannot be installed fail in
 *   seconds instead of minutes (pip's defaults: 15 s, 5 retries with back-off); pip's error is in the pod log and the
 *   failing `pip install` fails the container as on a cluster. `PIP_REQUIRE_VIRTUALENV=1` makes any pip outside a venv
 *   (e.g. `/usr/bin/python3 -m pip install`) refuse to install; `PYTHONNOUSERSITE=1` keeps `~/.local` out;
 *   `PIP_CACHE_DIR` is `<dataDir>/pip-cache`, not the user's ~/.cache/pip.
 * - Only `python`, `python3`, `pip`, `pip3` are shimmed: `python3.X` reaches the venv once it exists (its bin is first
 *   on PATH), before that the host's. A script with an absolute shebang (`#!/usr/bin/python3`) runs the host
 *   interpreter, but any pip there refuses to install (PIP_REQUIRE_VIRTUALENV).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { familiarImage } from '../machinery/images.js';
import { PIP_HOOK_PTH, PIP_HOOK_PY, shimScript, VENV_HELPER } from './scripts.js';

export interface PythonEnvironmentsOptions {
  /** Where the venvs, shims and helper live (a cache: reused across sandboxes when it persists). */
  dataDir: string;
  /** The system interpreter venvs are made from: a path, or a command looked up on PATH (default `/usr/bin/python3`, else `python3`). */
  python?: string;
  /** pip's socket timeout in seconds (`PIP_DEFAULT_TIMEOUT`, default 5). */
  pipTimeoutSeconds?: number;
  /** pip's retries per request (`PIP_RETRIES`, default 1). */
  pipRetries?: number;
  log?: (message: string) => void;
}

export interface PythonEnvironment {
  image: string;
  /** The venv (`VIRTUAL_ENV`). */
  venvDir: string;
  /** `<venvDir>/bin`. */
  binDir: string;
  /** What a container of this image gets over the base environment (PATH, VIRTUAL_ENV, PIP_*, PYTHONNOUSERSITE). */
  env: Record<string, string>;
}

export interface VenvCreation {
  image: string;
  dir: string;
  python: string;
  version: string;
  created: string;
  seconds: number;
}

export interface PythonEnvironments {
  /** The system interpreter (absolute path). */
  readonly python: string;
  /**
   * The environment of a container of `image` over `baseEnv` (its PATH is prefixed). Synchronous and cheap: the venv
   * is created by the first python/pip the container runs, when it does not exist yet.
   */
  containerEnv(image: string, baseEnv?: Readonly<Record<string, string>>): Record<string, string>;
  /** Creates the image's venv now if needed (shared with concurrent callers and pods), and describes it. */
  environmentFor(image: string, baseEnv?: Readonly<Record<string, string>>): Promise<PythonEnvironment>;
  /**
   * Installs `requirements` (pip specifiers) into the image's venv from this machine, with its network: the sandbox's
   * way of pulling an image whose packages its pods cannot download themselves (isolated pods have no route out).
   * pip holds the venv's lock, so pods of the image wait for it. Rejects with pip's output when it fails.
   * `ownPackages`: the image brings all its packages (the venv stops seeing the system's site-packages, whose
   * versions, Debian's, may clash with what pip installs: a newer cryptography under Debian's pyOpenSSL fails).
   */
  install(image: string, requirements: string[], opts?: { ownPackages?: boolean }): Promise<void>;
  /** The venv creations recorded in this cache, oldest first. */
  creations(): VenvCreation[];
  /** Waits for creations started by environmentFor. */
  close(): Promise<void>;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SHIM_NAMES = ['python', 'python3', 'pip', 'pip3'];

/**
 * Where the CLI's sandboxes keep their venvs between runs, so that what an image installed (the object store's moto,
 * a project's requirements) is there the next time, as a node keeps pulled images: `BODYWORK_SANDBOX_CACHE` when set
 * (empty: none, a temporary one per sandbox), else `$XDG_CACHE_HOME/bodywork-deploy/python` (default ~/.cache), or
 * `/var/cache/bodywork-deploy/python` as root (pods then run as another user, who cannot pass through /root).
 */
export function persistentCacheDir(env: NodeJS.ProcessEnv = process.env, root = typeof process.getuid === 'function' && process.getuid() === 0): string | undefined {
  const own = env.BODYWORK_SANDBOX_CACHE;
  if (own !== undefined) return own.trim() === '' ? undefined : path.resolve(own);
  if (root) return '/var/cache/bodywork-deploy/python';
  const base = env.XDG_CACHE_HOME?.trim() || path.join(env.HOME?.trim() || os.homedir(), '.cache');
  return path.join(base, 'bodywork-deploy', 'python');
}

/** Resolves the system interpreter: an explicit path or command, else Debian's /usr/bin/python3, else python3 on PATH. */
export function resolvePython(python: string | undefined, searchPath = process.env.PATH ?? DEFAULT_PATH): string {
  const candidates = python !== undefined ? [python] : ['/usr/bin/python3', 'python3'];
  for (const c of candidates) {
    if (c.includes('/')) {
      if (isExecutable(c)) return path.resolve(c);
      continue;
    }
    for (const dir of searchPath.split(path.delimiter)) {
      if (!dir) continue;
      const p = path.join(dir, c);
      if (isExecutable(p)) return p;
    }
  }
  // Not found: the shims report it in the pod log and fail the container.
  return path.resolve(candidates[0].includes('/') ? candidates[0] : `/usr/bin/${candidates[0]}`);
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function createPythonEnvironments(opts: PythonEnvironmentsOptions): PythonEnvironments {
  return new PythonVenvCache(opts);
}

/** Where an image's venv and shims live. */
interface VenvLayout {
  venvDir: string;
  shimDir: string;
}

/**
 * The venvs of one cache directory: its helper and pip hooks written at construction, each image's layout (shims
 * written on first use), and the creations under way.
 */
class PythonVenvCache implements PythonEnvironments {
  readonly python: string;
  private readonly root: string;
  /** The interpreter's real path (python3 -> python3.11), part of each venv's key: a new Python version gets new venvs. */
  private readonly realInterpreter: string;
  private readonly log: (message: string) => void;
  private readonly helper: string;
  private readonly hookPth: string;
  private readonly hookPy: string;
  /** The ledger of venv creations (creations()). */
  private readonly ledger: string;
  /** What every container gets besides its venv on PATH (the module comment says why). */
  private readonly pipEnv: Record<string, string>;
  private readonly layouts = new Map<string, VenvLayout>();
  /** Creations started by environmentFor, by venv directory. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(opts: PythonEnvironmentsOptions) {
    this.root = path.resolve(opts.dataDir);
    this.python = resolvePython(opts.python);
    this.realInterpreter = realpathOr(this.python);
    this.log = opts.log ?? (() => {});
    const root = this.root;
    this.helper = path.join(root, 'venv-helper.py');
    this.hookPth = path.join(root, 'hooks', '_bodywork_sandbox.pth');
    this.hookPy = path.join(root, 'hooks', '_bodywork_sandbox_pip.py');
    this.ledger = path.join(root, 'created.jsonl');
    fs.mkdirSync(path.join(root, 'hooks'), { recursive: true });
    fs.mkdirSync(path.join(root, 'venvs'), { recursive: true });
    writeAtomic(this.helper, VENV_HELPER);
    writeAtomic(this.hookPth, PIP_HOOK_PTH);
    writeAtomic(this.hookPy, PIP_HOOK_PY);
    this.pipEnv = {
      PIP_DEFAULT_TIMEOUT: String(opts.pipTimeoutSeconds ?? 5),
      PIP_RETRIES: String(opts.pipRetries ?? 1),
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_REQUIRE_VIRTUALENV: '1',
      PIP_NO_INPUT: '1',
      PIP_CACHE_DIR: path.join(root, 'pip-cache'),
      PYTHONNOUSERSITE: '1',
    };
  }

  containerEnv(image: string, baseEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
    const { venvDir, shimDir } = this.layout(image);
    const base = baseEnv.PATH ?? DEFAULT_PATH;
    return { ...this.pipEnv, VIRTUAL_ENV: venvDir, PATH: [path.join(venvDir, 'bin'), shimDir, base].filter(Boolean).join(path.delimiter) };
  }

  async environmentFor(image: string, baseEnv?: Readonly<Record<string, string>>): Promise<PythonEnvironment> {
    const env = this.containerEnv(image, baseEnv);
    const { venvDir } = this.layout(image);
    if (!fs.existsSync(venvDir)) {
      let p = this.creating.get(venvDir);
      if (!p) {
        p = this.runHelper(venvDir, familiarImage(image)).finally(() => this.creating.delete(venvDir));
        this.creating.set(venvDir, p);
      }
      await p;
    }
    return { image: familiarImage(image), venvDir, binDir: path.join(venvDir, 'bin'), env };
  }

  async install(image: string, requirements: string[], opts: { ownPackages?: boolean } = {}): Promise<void> {
    const { venvDir, binDir, env } = await this.environmentFor(image);
    if (opts.ownPackages) {
      // venv's own switch (pyvenv.cfg), read by every interpreter start.
      const cfg = path.join(venvDir, 'pyvenv.cfg');
      const text = fs.readFileSync(cfg, 'utf8');
      const own = text.replace(/^include-system-site-packages\s*=.*$/m, 'include-system-site-packages = false');
      if (own !== text) writeAtomic(cfg, own);
    }
    this.log(`python: installing ${requirements.join(' ')} into the environment of image ${familiarImage(image)}`);
    // pip's usual network patience here (the pods' PIP_DEFAULT_TIMEOUT/PIP_RETRIES are short on purpose).
    const { PIP_DEFAULT_TIMEOUT: _t, PIP_RETRIES: _r, ...pipEnv } = env;
    // Without the system's site-packages the venv has no pip of its own: the system's pip installs into it.
    const [pip, ...pipArgs] = opts.ownPackages ? [this.python, '-m', 'pip', '--python', path.join(binDir, 'python')] : [path.join(binDir, 'pip')];
    await new Promise<void>((resolve, reject) => {
      execFile(
        pip,
        [...pipArgs, 'install', '--quiet', ...requirements],
        { env: { ...process.env, ...pipEnv }, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`pip install ${requirements.join(' ')} for image ${image} failed: ${`${stdout}${stderr}`.trim().split('\n').slice(-5).join('\n') || err.message}`));
          else resolve();
        },
      );
    });
  }

  creations(): VenvCreation[] {
    let text: string;
    try {
      text = fs.readFileSync(this.ledger, 'utf8');
    } catch {
      return [];
    }
    const out: VenvCreation[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as VenvCreation);
      } catch {
        /* a torn line */
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.creating.values()]);
  }

  private layout(image: string): VenvLayout {
    // References that name one image share its venv (`busybox`, `busybox:latest`, `docker.io/library/busybox`); the
    // short form keeps the venv directories' names readable.
    const img = familiarImage(image);
    let l = this.layouts.get(img);
    if (l) return l;
    const hash = crypto.createHash('sha256').update(`${img}\0${this.realInterpreter}`).digest('hex').slice(0, 12);
    const slug = (img.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'image').slice(0, 48);
    const key = `${slug}-${hash}`;
    l = { venvDir: path.join(this.root, 'venvs', key), shimDir: path.join(this.root, 'shims', key) };
    fs.mkdirSync(l.shimDir, { recursive: true });
    const { python, helper, ledger, hookPth, hookPy } = this;
    for (const name of SHIM_NAMES) {
      writeAtomic(path.join(l.shimDir, name), shimScript({ name, venvDir: l.venvDir, python, helper, image: img, ledger, hookPth, hookPy }), 0o755);
    }
    this.layouts.set(img, l);
    return l;
  }

  private runHelper(venvDir: string, image: string): Promise<void> {
    this.log(`python: creating the environment of image ${image} in ${venvDir}`);
    return new Promise((resolve, reject) => {
      execFile(this.python, ['-I', this.helper, venvDir, image, this.ledger, this.hookPth, this.hookPy], { timeout: 600_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`creating the Python environment of image ${image} failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function writeAtomic(file: string, text: string, mode = 0o644): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    /* absent */
  }
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
