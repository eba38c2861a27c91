/**
 * A sandbox in a process of its own, for tests that need it to run as another user (rootless.test.ts): prints one
 * JSON line (its endpoint, kubeconfig and network), then answers each line read on stdin, a Service name, with a
 * JSON line holding that Service's host URL; stops the sandbox at EOF.
 */
import readline from 'node:readline';
import { startSandbox } from '../../../../src/sandbox/index.js';

const sb = await startSandbox({ python: false, warn: () => {}, kubelet: { maxGracePeriodMs: 1000 } });
process.stdout.write(JSON.stringify({ url: sb.url, caCert: sb.caCert, token: sb.token, kubeconfig: sb.kubeconfig, network: sb.network, dataDir: sb.dataDir }) + '\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  process.stdout.write(JSON.stringify({ url: (await sb.serviceUrl(line.trim())) ?? null }) + '\n');
}
await sb.stop();
