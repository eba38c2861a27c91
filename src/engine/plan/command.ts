/**
 * The command every stage container runs. Bodywork's image ran `bodywork stage`, which cloned the
 * repository, pip-installed the requirements and ran the script (bodywork-behaviour.md §2.5). Here the
 * code is already mounted, so the container runs a short `sh -c` script doing the last two steps:
 *
 *     set -e
 *     python -m pip install --no-cache-dir --disable-pip-version-check -r /bodywork/project/stage-1/requirements.txt
 *     cd /bodywork/project/stage-1
 *     exec python train_model.py arg1 'arg 2'
 *
 * pip runs only when the stage has requirements; `exec` makes python the container's main process,
 * so its exit code is the pod's and signals reach it.
 */
import { posix } from 'node:path';
import type { StageSpec } from '../config/spec.js';

/** Where the project files are mounted in every stage container; also its `PYTHONPATH`. */
export const PROJECT_MOUNT_PATH = '/bodywork/project';

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: left as is when it holds only safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `sh -c` script that installs a stage's requirements and runs its executable. */
export function stageScript(stage: StageSpec, root = PROJECT_MOUNT_PATH): string {
  const lines = ['set -e'];
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
  if (script.endsWith('.ipynb')) {
    // Bodywork 3 executed notebooks with nbconvert (no args); the mount is read-only, so the executed copy is discarded.
    lines.push(`exec python -m nbconvert --to notebook --execute --stdout ${shellQuote(script)} >/dev/null`);
  } else {
    lines.push(['exec python', shellQuote(script), ...stage.args.map(shellQuote)].join(' '));
  }
  return lines.join('\n');
}

/** The container command: `/bin/sh -c <script>`. */
export function stageCommand(stage: StageSpec, root = PROJECT_MOUNT_PATH): string[] {
  return ['/bin/sh', '-c', stageScript(stage, root)];
}
