/**
 * The command every stage container runs. Bodywork's image ran `bodywork stage`, which cloned the repository into a
 * writable directory, pip-installed the requirements and ran the script with its directory as cwd
 * (bodywork-behaviour.md §2.5). Here the code is already mounted, read-only and immutable, at CODE_MOUNT_PATH (the
 * code bundle's ConfigMaps, or the git init container's checkout), so the container runs a short `sh -c` script:
 *
 *     set -e
 *     rm -rf /bodywork/project/* /bodywork/project/.[!.]* /bodywork/project/..?*
 *     src=/bodywork/code
 *     if [ -d "$src/..data" ]; then src="$src/..data"; fi
 *     cp -RP "$src/." /bodywork/project/
 *     python -m pip install --no-cache-dir --disable-pip-version-check -r /bodywork/project/stage-1/requirements.txt
 *     cd /bodywork/project/stage-1
 *     exec python -c '<SCRIPT_RUNNER>' 30 MAX_COMPLETION_TIME_SECONDS train_model.py train_model.py arg1 'arg 2'
 *
 * - **A writable working copy** (the first four lines): the stage runs in a copy of the project in an `emptyDir`
 *   mounted at PROJECT_MOUNT_PATH, as Bodywork's stages ran in their own clone, so a script may write next to itself
 *   (the tutorial's train_model.py saves its model in its cwd). The copy is made afresh at every container start (a
 *   restarted service container gets pristine files, as Bodywork's re-clone did; an emptyDir outlives container
 *   restarts). A ConfigMap volume on a cluster holds its files under a `..data` symlink to a timestamped directory
 *   (the kubelet's atomic writer), with symlinks to it at the top: copying `..data/.` gives plain files. Only `sh`,
 *   `rm` and `cp` are used, which every image with a shell has (Bodywork's are python images).
 * - pip runs only when the stage has requirements.
 * - **The script's time limit** (batch stages with MAX_COMPLETION_TIME_SECONDS > 0): the limit bounds the script
 *   alone, not the copy, the install or the image pull, as Bodywork 3 timed `subprocess.run` after pip. A small
 *   Python runner (SCRIPT_RUNNER) enforces it rather than `timeout`: coreutils' `timeout` is not in every python
 *   image (slim and alpine variants differ, busybox's takes other options), while Python is what the stage runs
 *   anyway; and the runner can say what happened in the log and exit with SCRIPT_TIMEOUT_EXIT_CODE, which the engine
 *   reports as "exceeded MAX_COMPLETION_TIME_SECONDS (N s)". The runner is the container's main process: it forwards
 *   SIGTERM/SIGINT/SIGHUP to the script (PID 1 would otherwise ignore them) and exits with the script's code.
 * - **Notebooks** (`.ipynb`, Bodywork 3): run by NOTEBOOK_RUNNER instead of `python <script>`, under the same limit,
 *   with the environment of notebookEnv.
 * - `exec` makes python (or the runner) the container's main process, so its exit code is the pod's.
 */
import { posix } from 'node:path';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { StageSpec } from '../config/spec.js';

/** The stage's writable working copy of the project (an emptyDir), the root of its cwd; also its `PYTHONPATH`. */
export const PROJECT_MOUNT_PATH = '/bodywork/project';
/** Where the immutable project code is mounted read-only: the bundle's ConfigMaps or the git checkout. */
export const CODE_MOUNT_PATH = '/bodywork/code';
/** Name of the `emptyDir` volume holding the working copy. */
export const WORKING_COPY_VOLUME_NAME = 'bodywork-working-copy';
/** The exit code of a stage script stopped at its time limit (`timeout`'s convention, so it reads familiar). */
export const SCRIPT_TIMEOUT_EXIT_CODE = 124;
/** Seconds a script stopped at its limit gets between SIGTERM and SIGKILL. */
export const SCRIPT_STOP_GRACE_SECONDS = 5;

/**
 * `python -c SCRIPT_RUNNER <limit> <setting> <name> <argv...>`: runs `python <argv...>` for at most `<limit>` seconds.
 * First it prints how long the container took to get there (from the kernel's start time of this process, which is
 * the container's first process since every step `exec`s): the engine reads that line (`setupSecondsOf`).
 */
export const SCRIPT_RUNNER = `import os, signal, subprocess, sys
limit, setting, name, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def setup():
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as f:
            return " after %d s of set-up" % max(0, float(f.read().split()[0]) - started)
    except Exception:
        return ""
print("bodywork-deploy: running %s%s, limited to %g s by %s" % (name, setup(), limit, setting), file=sys.stderr, flush=True)
child = subprocess.Popen([sys.executable] + argv)
def forward(signum, frame):
    try:
        child.send_signal(signum)
    except OSError:
        pass
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, forward)
try:
    code = child.wait(timeout=limit)
except subprocess.TimeoutExpired:
    print("bodywork-deploy: %s exceeded %s (%g s): stopped" % (name, setting, limit), file=sys.stderr, flush=True)
    child.terminate()
    try:
        child.wait(timeout=${SCRIPT_STOP_GRACE_SECONDS})
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    sys.exit(${SCRIPT_TIMEOUT_EXIT_CODE})
sys.exit(code if code >= 0 else 128 - code)
`;

/**
 * `python -c NOTEBOOK_RUNNER <notebook>`: executes a notebook as Bodywork 3 did (bodywork-behaviour.md §2.5), with
 * nbconvert's ExecutePreprocessor and the notebook's directory (the cwd) as its path, keeping no executed copy.
 * - Unlike `python -m nbconvert --execute`, whose cells' output lands only in the executed notebook, it also writes
 *   each cell's stdout and stderr to the container's as they arrive, so a notebook's prints reach the stage's log as
 *   a script's do. A failing cell exits 1 after printing the cell and its traceback (the kernel runs without colour
 *   codes).
 * - The `python3` kernel is this interpreter: ipykernel's own kernelspec, written into JUPYTER_DATA_DIR (notebookEnv),
 *   which Jupyter searches before the system's. A system kernelspec (Debian's names /usr/bin/python3) would run the
 *   cells outside the image's environment, without the packages the stage's pip installed (in the sandbox, its venv).
 * - On SIGTERM, SIGINT or SIGHUP (the script limit's runner, a deleted pod) it kills the kernel, which runs in a
 *   session of its own that a signal to the container's process group misses, and exits 128 + the signal.
 */
export const NOTEBOOK_RUNNER = `import os, signal, sys
import nbformat
from ipykernel.kernelspec import install
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor
class Echo(ExecutePreprocessor):
    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            out = sys.stderr if msg["content"].get("name") == "stderr" else sys.stdout
            out.write(msg["content"].get("text", ""))
            out.flush()
        return super().output(outs, msg, display_id, cell_index)
def stop(signum, frame):
    client.shutdown_kernel = "immediate"
    raise SystemExit(128 + signum)
path = sys.argv[1]
install(user=True)
client = Echo(extra_arguments=["--InteractiveShell.colors=NoColor"])
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, stop)
try:
    client.preprocess(nbformat.read(path, as_version=4), {"metadata": {"path": "."}})
except CellExecutionError as e:
    print("bodywork-deploy: %s failed:\\n%s" % (path, e), file=sys.stderr, flush=True)
    sys.exit(1)
except SystemExit as e:
    # Stopped: the kernel is gone; skip the interpreter's warnings about the client's abandoned tasks.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(e.code)
`;

/** The directory, inside the working copy, of a notebook stage's Jupyter and IPython state (notebookEnv). */
export const NOTEBOOK_STATE_DIR = '.bodywork-notebook';

/** Whether a stage's executable is a notebook, which Bodywork 3 executed with nbconvert. */
export function isNotebook(stage: Pick<StageSpec, 'executable'>): boolean {
  return stage.executable.endsWith('.ipynb');
}

/**
 * What a notebook stage's container needs in its environment beyond a script's (none for a script). The kernel that
 * nbconvert starts writes its connection file to Jupyter's runtime dir, and IPython its profile to IPYTHONDIR, both
 * under $HOME by default; a pod's non-root user often has a HOME it cannot write (the sandbox's 65534 has HOME=/, as
 * `nobody` has on most images), where newer jupyter_client fails to start the kernel and IPython warns and falls back
 * to a temp dir. So they all go into the stage's writable working copy (an emptyDir, emptied at every container
 * start), the same on any cluster, whatever the image's user. IPYTHONDIR is the directory itself, because IPython
 * creates it only when its parent exists; jupyter_client creates the runtime dir itself.
 * PYDEVD_DISABLE_FILE_VALIDATION keeps ipykernel's debugger from warning about Python's frozen modules in every log.
 */
export function notebookEnv(stage: Pick<StageSpec, 'executable'>, root = PROJECT_MOUNT_PATH): V1EnvVar[] {
  if (!isNotebook(stage)) return [];
  const dir = posix.join(root, NOTEBOOK_STATE_DIR);
  return [
    { name: 'IPYTHONDIR', value: dir },
    { name: 'JUPYTER_RUNTIME_DIR', value: posix.join(dir, 'jupyter-runtime') },
    { name: 'JUPYTER_DATA_DIR', value: posix.join(dir, 'jupyter-data') },
    { name: 'PYDEVD_DISABLE_FILE_VALIDATION', value: '1' },
  ];
}

/**
 * The seconds of set-up (copy, pip install; on a cluster not the image pull) the runner's first line reports, or
 * undefined for any other line. The line comes from the stage's log, which the stage itself also writes to: a
 * stage printing the same words only misleads this notice.
 */
export function setupSecondsOf(line: string): number | undefined {
  const m = /^bodywork-deploy: running .* after (\d+) s of set-up, limited to /.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: left as is when it holds only safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface StageCommandOptions {
  /** Copy the code mounted here into `root` (the working copy's emptyDir) first; without it `root` is used as it is. */
  copyFrom?: string;
  /** The script's time limit in seconds: undefined or 0 for none. */
  limitSeconds?: number;
  /** The setting the limit comes from, for the messages (`MAX_COMPLETION_TIME_SECONDS`). */
  limitSetting?: string;
}

/** The lines that replace `root`'s contents with a copy of the code at `from`. */
function workingCopyLines(from: string, root: string): string[] {
  const r = shellQuote(root);
  return [
    // Globs left unmatched stay literal, and rm -f ignores them.
    `rm -rf ${r}/* ${r}/.[!.]* ${r}/..?*`,
    `src=${shellQuote(from)}`,
    'if [ -d "$src/..data" ]; then src="$src/..data"; fi',
    `cp -RP "$src/." ${r}/`,
  ];
}

/** The `sh -c` script that makes the working copy, installs a stage's requirements and runs its executable. */
export function stageScript(stage: StageSpec, root = PROJECT_MOUNT_PATH, options: StageCommandOptions = {}): string {
  const lines = ['set -e'];
  if (options.copyFrom !== undefined) lines.push(...workingCopyLines(options.copyFrom, root));
  const pip = 'python -m pip install --no-cache-dir --disable-pip-version-check';
  if (stage.requirements.length > 0) {
    lines.push(
      stage.requirementsFile !== undefined
        ? `${pip} -r ${shellQuote(posix.join(root, stage.requirementsFile))}`
        : `${pip} ${stage.requirements.map(shellQuote).join(' ')}`,
    );
  }
  // Bodywork runs the script with its directory as cwd (core@v1.0.0, #63).
  const dir = posix.dirname(stage.executable);
  lines.push(`cd ${shellQuote(dir === '.' ? root : posix.join(root, dir))}`);
  const script = posix.basename(stage.executable);
  // Bodywork 3 executed notebooks with nbconvert, without args.
  const argv = isNotebook(stage) ? ['-c', NOTEBOOK_RUNNER, script] : [script, ...stage.args];
  const limit = options.limitSeconds !== undefined && options.limitSeconds > 0 ? options.limitSeconds : undefined;
  const run = limit !== undefined ? ['-c', SCRIPT_RUNNER, String(limit), options.limitSetting ?? 'the time limit', script, ...argv] : argv;
  lines.push(['exec python', ...run.map(shellQuote)].join(' '));
  return lines.join('\n');
}

/** The container command: `/bin/sh -c <script>`. */
export function stageCommand(stage: StageSpec, root = PROJECT_MOUNT_PATH, options: StageCommandOptions = {}): string[] {
  return ['/bin/sh', '-c', stageScript(stage, root, options)];
}
