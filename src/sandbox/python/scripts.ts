/**
 * The files the sandbox's Python environments are made of, as text (the TypeScript build copies no assets):
 * the helper that creates an image's venv once, the pip wrapper, and the site hook that serializes pip runs.
 */

/** Quotes one word for a POSIX shell (always single quotes). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `python3 -I venv-helper.py <venvDir> <image> <ledger>`: creates the venv of one image unless it exists.
 *
 * - `python -m venv --system-site-packages` into `<venvDir>.tmp-…`, then an atomic rename: a venv directory that
 *   exists is complete (a killed creation leaves only a temporary directory, removed by the next one);
 * - an exclusive `flock` on `<venvDir>.lock` around it, so concurrent pods (or sandboxes sharing the cache) create it once;
 * - `--without-pip` when the interpreter has pip (Debian's python3-pip: the system site-packages bring it, and
 *   creation takes ~0.1 s instead of ~8 s for ensurepip); `bin/pip`, `pip3`, `pipX.Y` are relocatable wrappers
 *   running `python -m pip`;
 * - the pip lock hook (`_bodywork_sandbox.pth`) in the venv's site-packages;
 * - one JSON line per creation appended to `<ledger>`; progress on stderr (the pod's log).
 */
export const VENV_HELPER = String.raw`"""Bodywork sandbox: creates one image's Python environment (a venv seeing the system site-packages) once."""
import fcntl
import importlib.util
import json
import os
import platform
import secrets
import shutil
import sys
import time
import venv

PIP_WRAPPER = '#!/bin/sh\n# Bodywork sandbox: the pip of this Python environment.\nexec "$(dirname -- "$0")/python" -m pip "$@"\n'


def write(path, text, mode=0o644):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    os.chmod(path, mode)


def main():
    target, image, ledger = sys.argv[1], sys.argv[2], sys.argv[3]
    hook_pth, hook_py = sys.argv[4], sys.argv[5]
    if os.path.isdir(target):
        return 0
    os.makedirs(os.path.dirname(target), exist_ok=True)
    lock = os.open(target + '.lock', os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)
    if os.path.isdir(target):
        return 0
    started = time.time()
    with_pip = importlib.util.find_spec('pip') is None
    print('sandbox: creating the Python environment of image %s: %s -m venv --system-site-packages%s %s'
          % (image, sys.executable, '' if with_pip else ' --without-pip', target), file=sys.stderr, flush=True)
    tmp = '%s.tmp-%d-%s' % (target, os.getpid(), secrets.token_hex(4))
    try:
        venv.EnvBuilder(system_site_packages=True, symlinks=True, with_pip=with_pip).create(tmp)
        vi = sys.version_info
        bindir = os.path.join(tmp, 'bin')
        for name in ('pip', 'pip%d' % vi.major, 'pip%d.%d' % (vi.major, vi.minor)):
            write(os.path.join(bindir, name), PIP_WRAPPER, 0o755)
        for name in os.listdir(bindir):
            if name.lower().startswith('activate'):
                p = os.path.join(bindir, name)
                with open(p, encoding='utf-8') as f:
                    text = f.read()
                write(p, text.replace(tmp, target))
        site = os.path.join(tmp, 'lib', 'python%d.%d' % (vi.major, vi.minor), 'site-packages')
        os.makedirs(site, exist_ok=True)
        shutil.copyfile(hook_pth, os.path.join(site, '_bodywork_sandbox.pth'))
        shutil.copyfile(hook_py, os.path.join(site, '_bodywork_sandbox_pip.py'))
        info = {
            'image': image,
            'python': sys.executable,
            'version': platform.python_version(),
            'withPip': with_pip,
            'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'seconds': round(time.time() - started, 3),
        }
        write(os.path.join(tmp, 'bodywork-sandbox.json'), json.dumps(info) + '\n')
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with open(ledger, 'a', encoding='utf-8') as f:
        f.write(json.dumps(dict(info, dir=target)) + '\n')
    print('sandbox: created %s in %.1fs' % (target, info['seconds']), file=sys.stderr, flush=True)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception as err:  # noqa: BLE001 - reported in the pod's log, the container fails
        print('sandbox: creating the Python environment failed: %s: %s' % (type(err).__name__, err), file=sys.stderr)
        sys.exit(1)
`;

/** The `.pth` line: runs the pip lock hook at interpreter start-up (site.py executes `import` lines). */
export const PIP_HOOK_PTH = 'import _bodywork_sandbox_pip\n';

/**
 * Serializes pip runs in a shared (per-image) environment: a `python -m pip …` or `pip …` process takes an exclusive
 * flock on `<venv>/.bodywork-sandbox-pip.lock` for its lifetime; its children (pip's own subprocesses) inherit a
 * marker and do not wait on their parent. Never breaks interpreter start-up.
 */
export const PIP_HOOK_PY = String.raw`"""Bodywork sandbox: one pip at a time in this Python environment (shared by the pods of an image)."""
import os
import sys

_held = None


def _is_pip(argv):
    args = list(argv[1:])
    i = 0
    while i < len(args):
        a = args[i]
        if a == '-m':
            return i + 1 < len(args) and args[i + 1] == 'pip'
        if a.startswith('-m'):
            return a[2:] == 'pip'
        if a == '-c' or a == '-':
            return False
        if not a.startswith('-'):
            name = os.path.basename(a)
            return name.startswith('pip') and all(ch in '0123456789.' for ch in name[3:])
        if a in ('-W', '-X', '--check-hash-based-pycs'):
            i += 1
        i += 1
    return False


def _lock():
    global _held
    if os.environ.get('BODYWORK_SANDBOX_PIP_LOCKED') or not _is_pip(getattr(sys, 'orig_argv', None) or sys.argv):
        return
    import fcntl
    fd = os.open(os.path.join(sys.prefix, '.bodywork-sandbox-pip.lock'), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print('sandbox: waiting for another pip run in this Python environment (%s)' % sys.prefix, file=sys.stderr, flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
    os.environ['BODYWORK_SANDBOX_PIP_LOCKED'] = '1'
    _held = fd


try:
    _lock()
except Exception:  # noqa: BLE001
    pass
`;

/**
 * A shim for `name` (python, python3, pip, pip3): on PATH after the venv's bin, so it only runs while the venv does not
 * exist yet; it creates it (the helper above) and runs the venv's own `name`. Creation errors fail the container.
 */
export function shimScript(o: { name: string; venvDir: string; python: string; helper: string; image: string; ledger: string; hookPth: string; hookPy: string }): string {
  const q = shQuote;
  return [
    '#!/bin/sh',
    `# Bodywork sandbox: creates the Python environment of image ${o.image.replace(/\n/g, ' ')} on first use, then runs its ${o.name}.`,
    `v=${q(o.venvDir)}`,
    `if [ ! -x "$v/bin/${o.name}" ]; then`,
    `  if [ ! -x ${q(o.python)} ]; then`,
    `    echo ${q(`sandbox: no Python interpreter at ${o.python} (the sandbox's python.executable option)`)} >&2`,
    '    exit 127',
    '  fi',
    `  ${q(o.python)} -I ${q(o.helper)} "$v" ${q(o.image)} ${q(o.ledger)} ${q(o.hookPth)} ${q(o.hookPy)} || exit $?`,
    'fi',
    `exec "$v/bin/${o.name}" "$@"`,
    '',
  ].join('\n');
}
