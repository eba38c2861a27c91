/**
 * One pod's volumes as directories under `<pod dir>/volumes` (K pkg/kubelet/volumemanager, much reduced): set up
 * before any container starts; a missing Secret or ConfigMap leaves the pod waiting with a FailedMount event (once
 * per distinct message) and is retried.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, materializeVolumes, type EnvContext } from './config.js';
import { allowTraverse, openWritableVolumes, type RunAsOptions } from './run-as.js';

export interface PodVolumesEnv {
  podDir: string;
  dataDir: string;
  runAs: RunAsOptions;
  /** Records an event on the pod. */
  event(type: 'Warning', reason: string, message: string): void;
  /** A volume waits for a Secret or ConfigMap: try again later. */
  retryConfig(): void;
}

export class PodVolumes {
  /** Volume name -> its directory, once every volume is set up. */
  private dirs: Map<string, string> | undefined;
  /** Why the last setup failed (FailedMount). */
  private error: string | undefined;

  constructor(private readonly env: PodVolumesEnv) {}

  /** The volume directories once set up. */
  get ready(): Map<string, string> | undefined {
    return this.dirs;
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Sets the volumes up (MountVolume.SetUp) unless they are. */
  setUp(ctx: EnvContext): void {
    if (this.dirs) return;
    const root = path.join(this.env.podDir, 'volumes');
    try {
      // There even for a pod without volumes, as upstream's makePodDataDirs makes it: allowTraverse starts from it.
      fs.mkdirSync(root, { recursive: true });
      this.dirs = materializeVolumes(ctx, root);
      openWritableVolumes(ctx.pod, this.dirs, this.env.runAs);
      allowTraverse(root, this.env.dataDir);
      this.error = undefined;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const vol = (err as ConfigError & { volume?: string }).volume ?? '';
      const msg = `MountVolume.SetUp failed for volume "${vol}" : ${err.message}`;
      if (msg !== this.error) this.env.event('Warning', 'FailedMount', msg);
      this.error = msg;
      this.env.retryConfig();
    }
  }
}
