/**
 * Splits a followed log (`<timestamp> <text>` per line) into lines in one pass over each new chunk, with
 * memory bounded by one line:
 *
 * - `\r` not followed by `\n` starts the line over (a progress bar redrawing itself), keeping the line's first
 *   word (the API's timestamp, needed to resume). Only the bar's last state is printed, when its line ends:
 *   the runner's log cannot redraw a line, so every intermediate state would be a line of its own (800k of
 *   them for one tqdm loop), and throttling by time would make the output depend on the machine's speed.
 * - A line longer than `MAX_LOG_LINE_BYTES` keeps its first `MAX_LOG_LINE_BYTES` characters and ends with
 *   ` … [cut N bytes]`.
 * - `\r\n` ends a line like `\n`.
 */

/** Longest line kept (characters of the text after the timestamp); the rest is cut and counted. */
export const MAX_LOG_LINE_BYTES = 64 * 1024;

/** A first word longer than this is not a timestamp: the line is kept as text. */
const MAX_HEAD = 64;

export class LogLineSplitter {
  /** The line's first word and its space (the timestamp), kept across `\r`. */
  private head = '';
  private headDone = false;
  private parts: string[] = [];
  private kept = 0;
  private cut = 0;
  /** A chunk ended with `\r`: the next chunk says whether it was `\r\n`. */
  private pendingCr = false;
  /** Anything since the last line end (so `end()` knows whether a partial line is left). */
  private open = false;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxBytes = MAX_LOG_LINE_BYTES,
  ) {}

  push(chunk: string): void {
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk.startsWith('\n')) {
        this.endLine();
        i = 1;
      } else {
        this.restart();
      }
    }
    const delimiter = /[\r\n]/g;
    delimiter.lastIndex = i;
    for (let m = delimiter.exec(chunk); m !== null; m = delimiter.exec(chunk)) {
      this.append(chunk.slice(i, m.index));
      i = m.index + 1;
      if (m[0] === '\n') {
        this.endLine();
      } else if (i === chunk.length) {
        this.pendingCr = true;
      } else if (chunk[i] === '\n') {
        this.endLine();
        i++;
        delimiter.lastIndex = i;
      } else {
        this.restart();
      }
    }
    this.append(chunk.slice(i));
  }

  /** The stream ended: a last line without its newline is delivered too. */
  end(): void {
    this.pendingCr = false;
    if (this.open) this.endLine();
  }

  private append(text: string): void {
    if (text === '') return;
    this.open = true;
    if (!this.headDone) {
      const space = text.indexOf(' ');
      if (space >= 0 && this.head.length + space < MAX_HEAD) {
        this.head += text.slice(0, space + 1);
        this.headDone = true;
        text = text.slice(space + 1);
      } else if (space < 0 && this.head.length + text.length < MAX_HEAD) {
        this.head += text;
        return;
      } else {
        // No timestamp: the whole line is text.
        text = this.head + text;
        this.head = '';
        this.headDone = true;
      }
    }
    const room = this.maxBytes - this.kept;
    if (text.length <= room) {
      this.parts.push(text);
      this.kept += text.length;
      return;
    }
    // Do not split a surrogate pair.
    const take = room > 0 && /[\uD800-\uDBFF]/.test(text[room - 1] ?? '') ? room - 1 : room;
    if (take > 0) this.parts.push(text.slice(0, take));
    this.kept += take;
    this.cut += Buffer.byteLength(text.slice(take));
  }

  /** A `\r`: what follows replaces the line's text so far (not its timestamp). */
  private restart(): void {
    if (!this.headDone) this.head = '';
    this.headDone = true;
    this.parts = [];
    this.kept = 0;
    this.cut = 0;
  }

  private endLine(): void {
    const text = this.parts.join('');
    this.emit(`${this.head}${text}${this.cut > 0 ? ` … [cut ${this.cut} bytes]` : ''}`);
    this.head = '';
    this.headDone = false;
    this.parts = [];
    this.kept = 0;
    this.cut = 0;
    this.open = false;
  }
}
