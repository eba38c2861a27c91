/**
 * Vitest global set-up of the `upstream` project: builds test/upstream's control plane before any test starts (Go's
 * build cache makes this quick after the first build; build.sh does nothing when the binary is up to date).
 */
import { buildUpstream } from './upstream-cluster.js';

export default function setup(): void {
  const started = Date.now();
  try {
    buildUpstream((m) => console.error(m));
  } catch (err) {
    throw new Error(`${(err as Error).message}\nThe upstream suites need Go (see test/upstream/README.md); BODYWORK_TEST_CLUSTER=embedded runs the embedded sandbox only.`, { cause: err });
  }
  const s = (Date.now() - started) / 1000;
  if (s > 5) console.error(`test/upstream: control plane built in ${s.toFixed(0)} s`);
}
