/**
 * Reading container log files (the CRI format LogWriter writes, logs.ts) for `pods/log`: streamed from the file in
 * chunks with backpressure, as upstream's kubelet reads them (K pkg/kubelet/kuberuntime/logs/logs.go ReadLogs), so a
 * 100 MB log costs a chunk of memory, not the file, and a slow reader slows the reading rather than queueing the
 * rest. A follower reads on from where it is once the writer says a line was written (the file is the buffer).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../machinery/clock.js';
import type { PodLogOptions } from '../types.js';

export interface LogLine {
  /** Epoch ms, for since filters. */
  ms: number;
  ts: string;
  stream: 'stdout' | 'stderr';
  /** Text including the trailing newline when the line is complete. */
  text: string;
}

/** What the reader needs of the instance's writer (logs.ts LogWriter). */
export interface LogSource {
  readonly closed: boolean;
  once(event: 'line' | 'end', listener: () => void): unknown;
  off(event: 'line' | 'end', listener: () => void): unknown;
}

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** One record, `<RFC3339Nano> <stream> <P|F> <text>`; undefined when malformed. */
function parseLogRecord(rec: string): LogLine | undefined {
  const a = rec.indexOf(' ');
  const b = rec.indexOf(' ', a + 1);
  const c = rec.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const ts = rec.slice(0, a);
  const body = rec.slice(c + 1);
  return { ms: Date.parse(ts), ts, stream: rec.slice(a + 1, b) as LogLine['stream'], text: rec.slice(b + 1, c) === 'F' ? `${body}\n` : body };
}

/** Complete records in `buf` (split on newline bytes, which no UTF-8 sequence contains) and the unfinished rest. */
function splitRecords(buf: Buffer): { lines: LogLine[]; rest: Buffer } {
  const lines: LogLine[] = [];
  let start = 0;
  for (let nl = buf.indexOf(NEWLINE); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
    const line = nl > start ? parseLogRecord(buf.toString('utf8', start, nl)) : undefined;
    if (line) lines.push(line);
    start = nl + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/**
 * The last `maxLines` lines of a log file, cut to its last `maxBytes` bytes: the termination message of
 * FallbackToLogsOnError (K pkg/kubelet/kuberuntime/kuberuntime_container.go readLastStringFromContainerLogs). Reads
 * only the file's end: records are short beside the window (a line is split into 16 KiB records at most).
 */
export function readLogTail(file: string, maxLines: number, maxBytes: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const window = Math.min(size, maxBytes + maxLines * 64 + 16 * 1024 + 64);
    const buf = Buffer.alloc(window);
    const n = fs.readSync(fd, buf, 0, window, size - window);
    // The window's first record may be cut: dropped, unless the window starts the file.
    const from = size === window ? 0 : buf.indexOf(NEWLINE) + 1;
    const tail = splitRecords(buf.subarray(from, n)).lines.slice(-maxLines).map((l) => l.text).join('');
    const bytes = Buffer.from(tail, 'utf8');
    return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString('utf8') : tail;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A Readable over one instance's log with the `pods/log` options applied: tailLines (last N lines, counted on
 * complete records as the kubelet does), sinceSeconds/sinceTime, timestamps (`<RFC3339Nano> ` prefix per line),
 * limitBytes (output cut at that many bytes) and follow (keep streaming until the instance ends).
 */
export class LogFileStream extends Readable {
  private fd: number | undefined;
  /** Where the next read starts, and the bytes read after the last complete record. */
  private offset = 0;
  private rest = Buffer.alloc(0);
  private readonly since: number | undefined;
  private remaining: number;
  private readonly follow: boolean;
  private tailed = false;
  private pumping = false;
  /** Set while a follower waits for the writer: stops the wait. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly writer: LogSource | undefined,
    private readonly opts: PodLogOptions,
    clock: Pick<Clock, 'now'> = systemClock,
  ) {
    super();
    if (opts.sinceSeconds !== undefined) this.since = clock.now() - opts.sinceSeconds * 1000;
    else if (opts.sinceTime && !Number.isNaN(Date.parse(opts.sinceTime))) this.since = Date.parse(opts.sinceTime);
    this.remaining = opts.limitBytes !== undefined && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
    this.follow = opts.follow === true && writer !== undefined && !writer.closed;
  }

  override _read(): void {
    if (!this.pumping) void this.pump();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.wake?.();
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fs.close(fd, () => cb(err));
    else cb(err);
  }

  /** Reads and pushes until the consumer has enough, the log ends, or (following) the writer has nothing new. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      if (this.fd === undefined && !(await this.open())) return;
      const tailLines = this.opts.tailLines;
      if (!this.tailed && tailLines !== undefined && tailLines >= 0) {
        this.tailed = true;
        const lines = await this.tail(tailLines);
        if (this.destroyed || !this.pushLines(lines)) return;
      }
      for (;;) {
        const lines = await this.readChunk();
        if (this.destroyed) return;
        if (lines !== undefined) {
          if (!this.pushLines(lines)) return;
          continue;
        }
        // The end of what was written when that read ran. A follower of a running instance waits for more; the
        // writer writes the file before it tells or closes, and the size check and the wait are one synchronous step.
        if (this.follow && fs.fstatSync(this.fd!).size > this.offset) continue;
        if (!this.follow || this.writer!.closed) {
          this.push(null);
          return;
        }
        await this.waitForWriter();
        if (this.destroyed) return;
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  /** Pushes the lines that pass the since filter; false when the consumer wants no more for now or the limit is hit. */
  private pushLines(lines: LogLine[]): boolean {
    let more = true;
    for (const l of lines) {
      if (this.since !== undefined && l.ms < this.since) continue;
      let buf = Buffer.from(this.opts.timestamps ? `${l.ts} ${l.text}` : l.text, 'utf8');
      if (buf.length > this.remaining) buf = buf.subarray(0, this.remaining);
      this.remaining -= buf.length;
      more = this.push(buf) && more;
      if (this.remaining <= 0) {
        this.push(null);
        return false;
      }
    }
    return more;
  }

  private async open(): Promise<boolean> {
    try {
      const fd = await new Promise<number>((resolve, reject) => fs.open(this.file, 'r', (err, n) => (err ? reject(err) : resolve(n))));
      if (this.destroyed) {
        fs.close(fd, () => {});
        return false;
      }
      this.fd = fd;
      return true;
    } catch {
      // No file: the instance's logs are gone.
      this.push(null);
      return false;
    }
  }

  /** The next complete records from the file; undefined at its end. */
  private async readChunk(): Promise<LogLine[] | undefined> {
    const fd = this.fd!;
    const buf = Buffer.alloc(CHUNK_BYTES);
    const n = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, CHUNK_BYTES, this.offset, (err, bytes) => (err ? reject(err) : resolve(bytes))));
    if (n === 0) return undefined;
    this.offset += n;
    const { lines, rest } = splitRecords(this.rest.length ? Buffer.concat([this.rest, buf.subarray(0, n)]) : buf.subarray(0, n));
    // A copy: a view would keep the whole chunk alive.
    this.rest = Buffer.from(rest);
    return lines;
  }

  /**
   * The last `n` lines that pass the since filter. Without one, the reading starts at the n-th record from the end,
   * found backwards as upstream's kubelet does (K pkg/kubelet/kuberuntime/logs/logs.go, tail.FindTailLineStartIndex),
   * and nothing is returned here; with one, the whole file is read and only the last n lines kept.
   */
  private async tail(n: number): Promise<LogLine[]> {
    if (this.since === undefined) {
      this.offset = await this.tailStart(n);
      return [];
    }
    let kept: LogLine[] = [];
    for (let lines = await this.readChunk(); lines !== undefined && !this.destroyed; lines = await this.readChunk()) {
      if (n === 0) continue;
      for (const l of lines) if (l.ms >= this.since) kept.push(l);
      if (kept.length > 2 * n + 1024) kept = kept.slice(-n);
    }
    return n === 0 ? [] : kept.slice(-n);
  }

  /** Where the last `n` records start: just after the (n+1)-th newline from the end (each record ends in one). */
  private async tailStart(n: number): Promise<number> {
    const fd = this.fd!;
    const buf = Buffer.alloc(CHUNK_BYTES);
    let pos = fs.fstatSync(fd).size;
    let newlines = 0;
    while (pos > 0 && !this.destroyed) {
      const len = Math.min(CHUNK_BYTES, pos);
      pos -= len;
      const read = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, len, pos, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      for (let i = read - 1; i >= 0; i--) if (buf[i] === NEWLINE && ++newlines === n + 1) return pos + i + 1;
    }
    return 0;
  }

  /** Resolves once the writer wrote a line or ended, or the stream is destroyed. */
  private waitForWriter(): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.writer!.off('line', wake);
        this.writer!.off('end', wake);
        this.wake = undefined;
        resolve();
      };
      this.writer!.once('line', wake);
      this.writer!.once('end', wake);
      this.wake = wake;
    });
  }
}
