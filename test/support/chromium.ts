/**
 * A real Chromium for the tests that look at what a browser shows (Mermaid diagrams, the job summary's screenshots),
 * driven by puppeteer-core, which downloads no browser: it uses the machine's. Chromium is found on PATH (Debian's
 * `chromium`, which .ci/setup installs, or the Chrome that GitHub's Ubuntu runners carry) or at $BODYWORK_TEST_CHROMIUM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium (or Chrome) executable to use, or undefined when the machine has none. */
export function findChromium(): string | undefined {
  const given = process.env.BODYWORK_TEST_CHROMIUM;
  if (given) return existsSync(given) ? given : undefined;
  for (const name of CANDIDATES) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Why a file's browser tests run or are skipped, for its describe block's title. */
export function chromiumNote(chromium: string | undefined): string {
  return chromium ? `in ${chromium}` : 'SKIPPED: no Chromium on this machine (apt-get install chromium, or set BODYWORK_TEST_CHROMIUM)';
}

/**
 * Chromium, sandboxed where it can be. Root (CI containers) cannot use Chromium's sandbox, nor can a user where the
 * kernel refuses unprivileged user namespaces (Ubuntu 24.04's AppArmor): then without it, as the pages only load
 * local files (the Mermaid bundle, a stylesheet) and the tests' own content.
 */
export async function launch(executablePath: string): Promise<Browser> {
  const start = (sandbox: boolean) =>
    puppeteer.launch({ executablePath, headless: true, args: [...(sandbox ? [] : ['--no-sandbox']), '--disable-gpu', '--disable-dev-shm-usage'] });
  if (process.getuid?.() === 0) return start(false);
  try {
    return await start(true);
  } catch (e) {
    if (!/sandbox/i.test(e instanceof Error ? e.message : String(e))) throw e;
    return start(false);
  }
}
