/** `bodywork-deploy sandbox`: run the embedded Kubernetes sandbox until interrupted. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CliExit, type CliIo, EXIT_USAGE } from '../io.js';
import { sandboxRegistries } from '../registry.js';

interface SandboxFlags {
  kubeconfig: string;
  port: string;
  dataDir?: string;
}

export function registerSandbox(program: Command, io: CliIo): void {
  program
    .command('sandbox')
    .description(
      'run the embedded Kubernetes sandbox (API server, controllers, and a kubelet running containers as local processes) until Ctrl-C',
    )
    .option('--kubeconfig <file>', 'write a kubeconfig for the sandbox to this file', 'sandbox.kubeconfig')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', '0')
    .option('--data-dir <dir>', "where pods' volumes and logs live (default: a temporary directory, removed on exit)")
    .action(async (flags: SandboxFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliExit(EXIT_USAGE, `error: --port must be a whole number from 0 to 65535, got '${flags.port}'`);
      const kubeconfigPath = resolve(flags.kubeconfig);
      const { persistentCacheDir, startSandbox } = await import('../../sandbox/index.js');
      const cacheDir = persistentCacheDir();
      // Private registries to emulate (BODYWORK_SANDBOX_REGISTRIES): their images need pull secrets.
      const registries = sandboxRegistries();
      const sandbox = await startSandbox({
        port,
        kubeconfigPath,
        ...(flags.dataDir ? { dataDir: resolve(flags.dataDir) } : {}),
        ...(cacheDir ? { python: { cacheDir } } : {}),
        ...(registries.length > 0 ? { kubelet: { registries } } : {}),
      });
      io.stderr(`sandbox ready at ${sandbox.url}\n`);
      io.stderr(`kubeconfig written to ${kubeconfigPath}; try: kubectl --kubeconfig ${kubeconfigPath} get namespaces\n`);
      io.stderr('stop with Ctrl-C (every process the sandbox started is stopped with it)\n');
      await new Promise<void>((done) => {
        const stop = (signal: NodeJS.Signals): void => {
          io.stderr(`${signal}: stopping the sandbox\n`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void sandbox.stop().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
