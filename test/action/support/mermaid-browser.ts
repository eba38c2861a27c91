/**
 * Renders Mermaid diagrams as GitHub would: the real `mermaid` package (its browser bundle from node_modules) in a
 * real Chromium (test/support/chromium.ts), with securityLevel strict as GitHub's viewer.
 */
import { createRequire } from 'node:module';
import type { Browser, Page } from 'puppeteer-core';

/** Loads the Mermaid bundle into `page` and initializes it as GitHub's viewer does (no start on load, strict). */
export async function addMermaid(page: Page): Promise<void> {
  await page.addScriptTag({ path: createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js') });
  await page.evaluate(() => (globalThis as any).mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));
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
    await addMermaid(page);
    // Runs in the page; the project compiles without the DOM's types, so its globals are reached untyped.
    return await page.evaluate(async (sources: string[]) => {
      const { mermaid, document } = globalThis as any;
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
