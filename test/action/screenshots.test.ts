/**
 * The README's pictures of the job summary: the action run for real against the embedded sandbox (as the runner runs
 * it), its summary rendered as GitHub renders a job summary (GitHub-flavoured markdown with HTML by `marked`, the
 * ```mermaid blocks drawn by Mermaid, GitHub's markdown stylesheet from `github-markdown-css`), checked for what it
 * promises, and screenshot by Chromium. The pictures go to a temp dir and are only checked, unless
 * UPDATE_SCREENSHOTS=1: then they replace docs/summary-success.png and docs/summary-failure.png (README, "The action").
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked } from 'marked';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchProject, httpServer, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { chromiumNote, findChromium, launch } from '../support/chromium.js';
import { addMermaid } from './support/mermaid-browser.js';
import { root, runAction } from './support/run-action.js';

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/** The width of the pictures: about the README's column on github.com. */
const WIDTH = 900;

/** A PNG's size, from its IHDR chunk (the first after the signature). */
function pngSize(file: string): { width: number; height: number; bytes: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).toString('hex'), `${file} is not a PNG`).toBe('89504e470d0a1a0a');
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

/** Whether fontconfig has a font for `family` (the committed pictures need an emoji font: the summary's icons). */
function hasFont(family: string): boolean {
  try {
    return execFileSync('fc-list', [':', 'family'], { encoding: 'utf8' }).includes(family);
  } catch {
    return false;
  }
}

/**
 * The page GitHub shows a job summary in, as far as a picture tells: a bordered box titled "<job> summary" holding the
 * markdown, rendered with GitHub's stylesheet, mermaid blocks replaced by their diagrams.
 */
function summaryPage(markdown: string, job: string): string {
  const body = marked.parse(markdown, { gfm: true, async: false });
  const title = job.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<!doctype html>
<html><head><meta charset="utf-8"><style>
  body { margin: 0; background: #ffffff; }
  #summary { width: ${WIDTH}px; margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; box-sizing: border-box; }
  #summary > header { padding: 12px 16px; border-bottom: 1px solid #d1d9e0; background: #f6f8fa; border-radius: 6px 6px 0 0;
    font: 600 14px -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
  .markdown-body { padding: 16px 24px 8px; }
  .markdown-body .mermaid-box { margin-bottom: 16px; padding: 8px; border: 1px solid #d1d9e0; border-radius: 6px; text-align: center; }
  .markdown-body .mermaid-box svg { max-width: 100%; height: auto; }
</style></head>
<body><div id="summary"><header>${title} summary</header><article class="markdown-body">${body}</article></div></body></html>`;
}

interface Shown {
  /** The page's text as a reader sees it. */
  text: string;
  /** Mermaid's errors, one per diagram that did not render. */
  errors: string[];
  /** Each diagram's kind and text. */
  diagrams: { kind: string | null; text: string }[];
  /** Elements the summary's text must never become. */
  injected: string[];
  headings: string[];
}

/** Renders `markdown` as GitHub's summary page, reports what shows (checking nothing), and screenshots the box to `file`. */
async function render(browser: Browser, markdown: string, file: string): Promise<Shown> {
  const page = await browser.newPage();
  try {
    await page.setViewport({ width: WIDTH + 32, height: 800 });
    await page.setContent(summaryPage(markdown, 'deploy'));
    await page.addStyleTag({ path: createRequire(import.meta.url).resolve('github-markdown-css/github-markdown-light.css') });
    await addMermaid(page);
    // Runs in the page; the project compiles without the DOM's types, so its globals are reached untyped.
    const shown = await page.evaluate(async () => {
      const { mermaid, document } = globalThis as any;
      const errors: string[] = [];
      const diagrams: { kind: string | null; text: string }[] = [];
      const article = document.querySelector('article');
      // What marked makes of a ```mermaid fence; GitHub shows the diagram in its place.
      const blocks = [...article.querySelectorAll('pre > code.language-mermaid')];
      for (const [i, block] of blocks.entries()) {
        const box = document.createElement('div');
        box.className = 'mermaid-box';
        try {
          const { svg } = await mermaid.render(`m${i}`, block.textContent);
          box.innerHTML = svg;
          const el = box.querySelector('svg');
          const copy = el.cloneNode(true);
          copy.querySelectorAll('style').forEach((e: any) => e.remove());
          diagrams.push({ kind: el.getAttribute('aria-roledescription'), text: copy.textContent ?? '' });
        } catch (e) {
          errors.push(e instanceof Error ? e.message : String(e));
        }
        block.parentElement.replaceWith(box);
      }
      const outside = [...article.querySelectorAll('script, img, iframe, [onerror], [onload], [onclick]')].filter((e: any) => !e.closest('svg'));
      return {
        text: article.innerText as string,
        errors,
        diagrams,
        injected: outside.map((e: any) => e.outerHTML as string),
        headings: [...article.querySelectorAll('h2, h3')].map((h: any) => h.textContent as string),
      };
    });
    await screenshot(page, file);
    return shown;
  } finally {
    await page.close();
  }
}

/** The summary's box alone, to `file`; squeezed by optipng when refreshing the committed pictures and it is installed. */
async function screenshot(page: Page, file: string): Promise<void> {
  const box = await page.$('#summary');
  await box!.screenshot({ path: file as `${string}.png`, type: 'png' });
  if (UPDATE) {
    try {
      execFileSync('optipng', ['-quiet', '-o2', file]);
    } catch {
      // optipng is optional: the picture is only larger
    }
  }
}

/** Checks every claim common to both pictures: GitHub shows the summary's text, not its markup. */
function expectRendered(shown: Shown): void {
  expect(shown.errors).toEqual([]);
  expect(shown.diagrams.map((d) => d.kind)).toEqual(['flowchart-v2', 'gantt']);
  expect(shown.injected).toEqual([]);
  // No markup or entity shows as text: escaped once, decoded once.
  expect(shown.text).not.toMatch(/&(lt|gt|amp|quot|#\d+);|<\/?(td|tr|code|pre|br)>|```/);
}

/** The picture is the summary's box, cropped to it: as wide as the page, as tall as a summary, not blank, not huge. */
function expectPicture(file: string): void {
  const png = pngSize(file);
  expect(png.width).toBe(WIDTH);
  expect(png.height).toBeGreaterThan(600);
  expect(png.height).toBeLessThan(3000);
  // A blank page of this size compresses to a few kB; the summaries' text and diagrams do not.
  expect(png.bytes).toBeGreaterThan(30_000);
  expect(png.bytes).toBeLessThan(600_000);
}

const chromium = findChromium();
const why = chromiumNote(chromium);
if (!chromium) console.warn(`screenshots.test.ts: the screenshots are ${why}`);

describe.skipIf(!chromium)(`the job summary as GitHub shows it, screenshot ${why}`, () => {
  let s: DeploySandbox;
  let browser: Browser;
  let kubeconfig: string;
  const dirs: string[] = [];
  let out: string;

  beforeAll(async () => {
    if (UPDATE && !hasFont('Noto Color Emoji')) throw new Error('UPDATE_SCREENSHOTS=1 needs an emoji font for the summary icons: apt-get install fonts-noto-color-emoji (and fonts-noto-core fonts-liberation for GitHub\'s look)');
    out = UPDATE ? join(root, 'docs') : mkdtempSync(join(tmpdir(), 'summary-screenshots-'));
    mkdirSync(out, { recursive: true });
    s = await startDeploySandbox();
    kubeconfig = s.sandbox.kubeconfig;
    browser = await launch(chromium!);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await Promise.all(dirs.map(removeProject));
    if (out && !UPDATE) rmSync(out, { recursive: true, force: true });
  });

  async function deploy(name: string, files: Record<string, string>) {
    const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
    dirs.push(ws);
    return runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', namespace: name, timeout: '120s' } });
  }

  it('a successful run: a batch stage then a service stage, the service URL shown', async () => {
    const train = [
      'print("loaded 150 rows from iris.csv", flush=True)',
      'print("trained DecisionTreeClassifier(max_depth=3): accuracy 0.97", flush=True)',
      'print("model saved to s3://bodywork-models/iris/model.joblib", flush=True)',
      '',
    ].join('\n');
    const run = await deploy('iris-pipeline', batchProject('iris-pipeline', 'stage-1-train-model >> stage-2-scoring-service', {
      'stage-1-train-model': { script: train },
      'stage-2-scoring-service': { script: httpServer(5701, 'ok'), service: { port: 5701, replicas: 2 } },
    }));
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const url = 'http://stage-2-scoring-service.iris-pipeline.svc.cluster.local:5701';
    expect(run.outputs.url).toBe(url);

    const file = join(out, 'summary-success.png');
    const shown = await render(browser, run.summary, file);
    expectRendered(shown);
    expect(shown.headings).toEqual(['✅ Bodywork deploy: iris-pipeline succeeded', 'DAG', 'Timeline', 'Stages', 'Services']);
    for (const d of shown.diagrams) for (const stage of ['stage-1-train-model', 'stage-2-scoring-service']) expect(d.text).toContain(stage);
    expect(shown.text).toMatch(/^1\tstage-1-train-model\tbatch\t✅ succeeded\t1\t\d+s\t$/m);
    expect(shown.text).toMatch(new RegExp(`^2\\tstage-2-scoring-service\\tservice\\t✅ succeeded\\t1\\t\\d+s\\t${url}$`, 'm'));
    expect(shown.text).toContain(`stage-2-scoring-service\t2/2\t${url}\thttp://localhost:8001/api/v1/namespaces/iris-pipeline/services/stage-2-scoring-service:5701/proxy/`);
    expect(shown.text).toContain('Reach a service from your machine with kubectl proxy --port 8001, then open its proxy URL.');
    expect(shown.text).not.toContain('Failure');

    expectPicture(file);
  });

  it('a failed run: the failure first, the stage\'s log tail escaped and open, the service skipped', async () => {
    const train = [
      'import sys',
      'print("loaded 150 rows from iris.csv", flush=True)',
      // Short enough to show whole beside the pod name that prefixes it in the picture.
      'print("model <Tree depth=3>: accuracy 0.62 & **f1** 0.58 | `ok`", flush=True)',
      'def check(accuracy):',
      '    if accuracy < 0.9:',
      '        raise ValueError(f"model accuracy {accuracy} < 0.9: not deploying it")',
      'check(0.62)',
      '',
    ].join('\n');
    const run = await deploy('iris-failing', batchProject('iris-failing', 'stage-1-train-model >> stage-2-scoring-service', {
      'stage-1-train-model': { script: train },
      'stage-2-scoring-service': { script: httpServer(5702, 'ok'), service: { port: 5702 } },
    }));
    expect(run.status, run.stdout + run.stderr).toBe(1);

    const file = join(out, 'summary-failure.png');
    const shown = await render(browser, run.summary, file);
    expectRendered(shown);
    expect(shown.headings).toEqual(['❌ Bodywork deploy: iris-failing failed', 'Last log lines of stage-1-train-model (failed)', 'DAG', 'Timeline', 'Stages']);
    expect(shown.text).toMatch(/^Failure: stage 'stage-1-train-model' \(step 1\) failed: .+/m);
    // The log tail as the stage wrote it: not markup, not markdown.
    expect(shown.text).toContain('model <Tree depth=3>: accuracy 0.62 & **f1** 0.58 | `ok`');
    expect(shown.text).toContain('ValueError: model accuracy 0.62 < 0.9: not deploying it');
    expect(shown.text).toContain('Traceback (most recent call last):');
    // Drawn in both diagrams: the one that ran in the timeline, both in the DAG.
    expect(shown.diagrams[0].text).toContain('stage-1-train-model');
    expect(shown.diagrams[0].text).toContain('stage-2-scoring-service');
    expect(shown.diagrams[0].text).toContain('failed');
    expect(shown.diagrams[1].text).toContain('stage-1-train-model');
    // The reason is the Failure line's, said once: the row shows only the result.
    expect(shown.text).toMatch(/^1\tstage-1-train-model\tbatch\t❌ failed\t1\t\d+s\t$/m);
    expect(shown.text).toMatch(/^2\tstage-2-scoring-service\tservice\t⏭️ skipped\t0\t\t$/m);
    expect(shown.text).not.toContain('Services');

    expectPicture(file);
  });
});
