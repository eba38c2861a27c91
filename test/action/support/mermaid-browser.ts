/**
 * Renders Mermaid diagrams as GitHub would: the real `mermaid` package (its browser bundle from node_modules) in a
 * real Chromium, driven by puppeteer-core (which downloads no browser: it uses the machine's). Chromium is found on
 * PATH (Debian's `chromium`, which .ci/setup installs, or the Chrome that GitHub's Ubuntu runners carry) or at
 * $BODYWORK_TEST_CHROMIUM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/**
 * Chromium, sandboxed where it can be. Root (CI containers) cannot use Chromium's sandbox, nor can a user where the
 * kernel refuses unprivileged user namespaces (Ubuntu 24.04's AppArmor): then without it, as the page only loads the
 * local Mermaid bundle and the test's own diagrams.
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

export interface Rendered {
  /** Mermaid's error message, when the diagram did not parse or render. */
  error?: string;
  /** The rendered SVG's text, as a reader sees it (entities decoded). */
  text: string;
  /** The diagram kind the SVG says it is (`flowchart-v2`, `gantt`). */
  kind: string | null;
  /** Elements in the rendered SVG that a label must never become. */
  injected: string[];
  /** Number of nodes / bars drawn. */
  nodes: number;
  bars: number;
}

/** Renders each source with `mermaid.render` in one page (securityLevel strict, as GitHub's viewer). */
export async function renderAll(browser: Browser, sources: string[]): Promise<Rendered[]> {
  const page = await browser.newPage();
  try {
    await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js') });
    // Runs in the page; the project compiles without the DOM's types, so its globals are reached untyped.
    return await page.evaluate(async (sources: string[]) => {
      const { mermaid, document } = globalThis as any;
      mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
      const out: Rendered[] = [];
      for (const [i, source] of sources.entries()) {
        const host = document.getElementById('out');
        try {
          await mermaid.parse(source);
          const { svg } = await mermaid.render(`d${i}`, source);
          host.innerHTML = svg;
          const el = host.querySelector('svg');
          out.push({
            // Without the stylesheet (its class names are ours, not the labels').
            text: (() => {
              const copy = el.cloneNode(true);
              copy.querySelectorAll('style').forEach((e: any) => e.remove());
              return copy.textContent ?? '';
            })(),
            kind: el.getAttribute('aria-roledescription'),
            injected: [...el.querySelectorAll('script, img, iframe, a, [onerror], [onload], [onclick]')].map((e: any) => e.outerHTML),
            nodes: el.querySelectorAll('g.node').length,
            bars: el.querySelectorAll('rect.task').length,
          });
        } catch (e) {
          out.push({ error: e instanceof Error ? e.message : String(e), text: '', kind: null, injected: [], nodes: 0, bars: 0 });
        }
        host.innerHTML = '';
      }
      return out;
    }, sources);
  } finally {
    await page.close();
  }
}
