/**
 * A stage that prints a large log, and a tally of what a deployer printed of it: for the log-volume test (a few MB,
 * test/action/log-volume.test.ts) and benchmark (100 MB, bench/scale.ts).
 *
 * The script prints numbered lines: mostly short ones (`L00000042 ` and padding), and every BAR_EVERY-th a progress
 * bar redrawn with `\r` (`P00000099   0%\r…\rP00000099 100%\n`), of which only the last state is a line (log-lines.ts).
 * The tally checks that each numbered line arrived exactly once, whole, and the bars as their last state only.
 */

/** One line in this many is a progress bar. */
export const BAR_EVERY = 100;
const PAD = 'x'.repeat(30);
const BAR_STATES = 11;

const num = (i: number) => String(i).padStart(8, '0');
const expectedText = (i: number) => (i % BAR_EVERY === BAR_EVERY - 1 ? `P${num(i)} 100%` : `L${num(i)} ${PAD}`);
/** Bytes the script prints for line i (with its newline and the bar's redraws). */
const printedBytes = (i: number) => (i % BAR_EVERY === BAR_EVERY - 1 ? BAR_STATES * 15 : 10 + PAD.length + 1);

/** How many numbered lines make about `bytes` of log. */
export function linesFor(bytes: number): number {
  let perBlock = 0;
  for (let i = 0; i < BAR_EVERY; i++) perBlock += printedBytes(i);
  return Math.max(BAR_EVERY, Math.round((bytes / perBlock) * BAR_EVERY));
}

/** The stage script: `lines` numbered lines, written in large blocks (as a busy training loop would), then `END`. */
export function logVolumeScript(lines: number): string {
  return `import sys
N = ${lines}
PAD = "${PAD}"
out = sys.stdout
buf = []
for i in range(N):
    if i % ${BAR_EVERY} == ${BAR_EVERY - 1}:
        buf.append("\\r".join("P%08d %3d%%" % (i, k * 10) for k in range(${BAR_STATES})) + "\\n")
    else:
        buf.append("L%08d %s\\n" % (i, PAD))
    if len(buf) >= 2000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
out.write("END %d\\n" % N)
out.flush()
`;
}

export interface LogTally {
  expected: number;
  /** Numbered lines seen exactly once, whole. */
  once: number;
  missing: number;
  doubled: number;
  /** Numbered lines whose text was not what the script printed (cut anywhere, merged, or a bar's intermediate state). */
  wrong: number;
  /** The script's closing `END N` line arrived. */
  ended: boolean;
}

/** Counts the stage's numbered lines among everything a deployer printed (`[stage] text` lines, in any order). */
export class LogLineTally {
  private readonly counts: Uint8Array;
  private wrong = 0;
  private ended = false;
  private readonly prefix: string;

  constructor(
    stage: string,
    private readonly expected: number,
  ) {
    this.counts = new Uint8Array(expected);
    this.prefix = `[${stage}] `;
  }

  add(line: string): void {
    if (!line.startsWith(this.prefix)) return;
    const text = line.slice(this.prefix.length);
    if (text === `END ${this.expected}`) {
      this.ended = true;
      return;
    }
    const m = /^[LP](\d{8}) /.exec(text);
    if (!m) {
      // A piece of a numbered line cut within its number (`L000` or `P`) is wrong too, not someone else's line.
      if (/^[LP](\d|$)/.test(text)) this.wrong++;
      return;
    }
    const i = Number(m[1]);
    if (i >= this.expected || text !== expectedText(i)) {
      this.wrong++;
      return;
    }
    if (this.counts[i]! < 255) this.counts[i]!++;
  }

  result(): LogTally {
    let once = 0;
    let missing = 0;
    let doubled = 0;
    for (const c of this.counts) {
      if (c === 1) once++;
      else if (c === 0) missing++;
      else doubled++;
    }
    return { expected: this.expected, once, missing, doubled, wrong: this.wrong, ended: this.ended };
  }

  /** The first `limit` runs of line numbers not seen exactly once, as `[first, last, count seen]`: where a loss happened. */
  anomalies(limit = 10): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let i = 0; i < this.expected && out.length < limit; i++) {
      const c = this.counts[i]!;
      if (c === 1) continue;
      let j = i;
      while (j + 1 < this.expected && this.counts[j + 1] === c) j++;
      out.push([i, j, c]);
      i = j;
    }
    return out;
  }
}
