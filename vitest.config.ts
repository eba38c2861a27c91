import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, one per test cluster (test/support/cluster.ts reads BODYWORK_TEST_TARGET):
 * - embedded: every suite, against the embedded sandbox;
 * - upstream: the suites that deploy to a cluster, again, against the upstream control plane (test/upstream: real
 *   kube-apiserver, kube-controller-manager, kube-scheduler) with our node joined to it. Upstream is the judge.
 * BODYWORK_TEST_CLUSTER picks them: both (default), embedded, or upstream.
 */
const UPSTREAM_SUITES = [
  'test/engine/deploy/batch-stage.test.ts',
  'test/engine/deploy/cancel.test.ts',
  'test/engine/deploy/deploy.test.ts',
  'test/engine/deploy/git-source.test.ts',
  'test/engine/deploy/lock.test.ts',
  'test/engine/deploy/prune.test.ts',
  'test/engine/deploy/pull-secrets.test.ts',
  'test/engine/deploy/rollback-traffic.test.ts',
  'test/engine/deploy/setup.test.ts',
  'test/engine/deploy/stage-runtime.test.ts',
  'test/engine/deploy/teardown.test.ts',
  'test/engine/deploy/ingress-class.test.ts',
  'test/engine/deploy/ini-labels.test.ts',
  'test/engine/deploy/schema-1-0.test.ts',
  'test/engine/deploy/notebook-stage.test.ts',
  'test/engine/deploy/overrides.test.ts',
  'test/engine/deploy/dry-run.test.ts',
  'test/engine/deploy/dry-run-secrets.test.ts',
  'test/engine/runner/runner.test.ts',
  'test/engine/runner/git-source.test.ts',
  'test/engine/runner/preview.test.ts',
  'test/engine/runner/host-network.test.ts',
  'test/engine/runner/cli-prune.test.ts',
  'test/cli/secrets.test.ts',
  'test/cli/registry.test.ts',
  'test/cli/plan-server.test.ts',
  'test/action/deploy.test.ts',
  'test/action/registry.test.ts',
  'test/action/plan-server.test.ts',
  'test/action/injection.test.ts',
  'test/action/summary-post.test.ts',
  'test/e2e/tutorial.test.ts',
  'test/sandbox/conformance/kubectl.test.ts',
  // Upstream-only: our node joined to it, the README's RBAC, Pod Security admission.
  'test/on-upstream/*.test.ts',
];

/**
 * The venv cache of the CLI's sandboxes (`deploy --sandbox` run by tests) and of test clusters that ask for a shared
 * one (test/support/cluster.ts): one machine-wide place for the tests, not the user's own cache, where what an image
 * installs (the object store's moto) is installed once, not once per test.
 */
const BODYWORK_SANDBOX_CACHE = join(tmpdir(), 'bodywork-test-python-cache');

const choice = process.env.BODYWORK_TEST_CLUSTER ?? 'both';
if (!['both', 'embedded', 'upstream'].includes(choice)) throw new Error(`BODYWORK_TEST_CLUSTER must be both, embedded or upstream, got '${choice}'`);

export default defineConfig({
  test: {
    environment: 'node',
    // Generous: end-to-end tests run real processes on a shared 2-core machine; a hung test still fails.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // The sandbox runs real processes; two cores are all CI has.
    maxWorkers: 2,
    projects: [
      ...(choice === 'upstream'
        ? []
        : [{ extends: true, test: { name: 'embedded', include: ['test/**/*.test.ts'], exclude: ['test/on-upstream/**'], env: { BODYWORK_TEST_TARGET: 'embedded', BODYWORK_SANDBOX_CACHE } } }]),
      ...(choice === 'embedded'
        ? []
        : [
            {
              extends: true,
              test: {
                name: 'upstream',
                include: UPSTREAM_SUITES,
                env: { BODYWORK_TEST_TARGET: 'upstream', BODYWORK_SANDBOX_CACHE },
                // Builds test/upstream's control plane once, before any test (a no-op when it is up to date).
                globalSetup: ['test/support/build-upstream.ts'],
                // A control plane and its node start in about 10 s, longer on a loaded machine.
                hookTimeout: 240_000,
              },
            },
          ]),
    ],
  },
});
