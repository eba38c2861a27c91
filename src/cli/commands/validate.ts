/** `bodywork-deploy validate [DIR]`: checks a project without touching a cluster. */
import path from 'node:path';
import type { Command } from 'commander';
import { BundleError, PlanError, bundleProject, planProject } from '../../engine/index.js';
import { CliExit, type CliIo, EXIT_USAGE, plural } from '../io.js';
import { countStages, loadProjectOrExit } from '../project.js';

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('check a Bodywork project (config, and that its files can be shipped) and print every problem found (exit 0: valid, 2: problems)')
    .argument('[dir]', 'project directory', '.')
    .action(async (dir: string) => {
      const spec = await loadProjectOrExit(dir, io);
      const configFile = path.join(dir, spec.configFile);
      try {
        // A project that loads can still be impossible to deploy: two stages with the same Kubernetes name,
        // or files too large (or linked from outside) to ship in ConfigMaps.
        planProject(spec, { codeBundle: await bundleProject(spec) });
      } catch (error) {
        if (error instanceof PlanError || error instanceof BundleError) {
          io.stderr(`${error instanceof PlanError ? configFile : dir}: ${error.message}\n`);
          throw new CliExit(EXIT_USAGE, `1 problem in ${dir}`);
        }
        throw error;
      }
      const { stages, steps } = countStages(spec);
      io.stdout(`${configFile} is a valid Bodywork project (${plural(stages, 'stage')} in ${plural(steps, 'step')})\n`);
    });
}
