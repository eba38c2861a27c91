/**
 * Bodywork itself as a third deployer: why it gives no figure here. Checked by hand on this machine with bodywork
 * 3.0.12, PyPI's latest (installed into a throwaway venv); the README's Benchmark section says the same.
 */
export const BODYWORK_NOT_RUN = [
  'Bodywork itself (PyPI `bodywork` 3.0.12) is not measured: it cannot deploy on this machine.',
  '- It installs only with workarounds: PyPI has just an sdist whose setup.py declares python_requires ">=3.7.*",',
  '  which current setuptools rejects (needs setuptools<66 and --no-build-isolation), and its CLI (typer 0.4.1) fails',
  '  to start with click>=8.1 ("Secondary flag is not valid for non-boolean flag") unless click<8.1 is pinned.',
  '- Once installed, `bodywork create deployment GIT_URL` clones the repository, then creates Jobs and Deployments whose',
  '  containers run `bodywork stage GIT_URL STAGE` in the image bodyworkml/bodywork-core:latest from DockerHub: each',
  '  stage pod clones the repository again and pip-installs the stage requirements. This machine has no Docker, no',
  '  DockerHub and no network beyond package registries, so neither cluster can pull that image; the embedded',
  '  sandbox maps images to local Python environments that have no `bodywork` command, and a file:// URL would',
  '  only work if we installed Bodywork into those environments, which would no longer be Bodywork as it ships.',
].join('\n');
