/** The deploy settings of the `deploy` and `schedule` flags: the engine's DeploySettings, parsed as the action's inputs are. */
import { parseDeploySettings, SettingError, type DeploySettings } from '../engine/index.js';
import { CliExit, EXIT_USAGE } from './io.js';

export interface DeploySettingsFlags {
  timeout?: string;
  lockTimeout?: string;
  keepJobs?: string;
  prune: boolean;
  image?: string;
  ingressClass?: string;
  stages?: string;
}

/** The settings of `flags` (commander fills in the defaults); exit 2 naming the flag when one does not parse. */
export function settingsFromFlags(flags: DeploySettingsFlags, imagePullSecrets?: string[]): DeploySettings {
  try {
    return parseDeploySettings({ ...flags, imagePullSecrets });
  } catch (error) {
    if (error instanceof SettingError) throw new CliExit(EXIT_USAGE, `error: --${error.setting} must be ${error.expected}, got '${error.got}'`);
    throw error;
  }
}
