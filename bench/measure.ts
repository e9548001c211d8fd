// What the benchmarks share: progress bars, bursts, percentiles, and reading the memory and disk of
// the processes and files they measure.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';

export const MiB = 1024 * 1024;

export function progress(label: string, total: number, extra = ''): SingleBar {
  const bar = new SingleBar(
    { format: `${label.padEnd(26)} [{bar}] {value}/{total} {eta_formatted} left${extra}`, noTTYOutput: true, notTTYSchedule: 5000, etaBuffer: 50 },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `task` n times with at most `concurrency` in flight; returns calls per second. */
export async function burst(label: string, n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ perSecond: number; seconds: number }> {
  const bar = progress(label, n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        await task(i);
        bar.increment();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  bar.stop();
  return { perSecond: n / seconds, seconds };
}

/**
 * Waits until `count()` reaches `total`, showing it on a bar; gives up once the count has not moved
 * for `patienceMs`. Returns the last count.
 */
export async function waitForCount(label: string, total: number, count: () => number | Promise<number>, patienceMs: number, everyMs = 200): Promise<number> {
  const bar = progress(label, total);
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const now = await count();
    bar.update(Math.min(now, total));
    if (now >= total) break;
    if (now !== last) {
      last = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt > patienceMs) break;
    await sleep(everyMs);
  }
  bar.stop();
  return count();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(values: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v >= 10_000 ? (v / 1000).toFixed(1) + ' s' : v.toFixed(0) + ' ms'}` : 'n/a');
export const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(0)} MiB` : 'n/a');
export const kib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : 'n/a');

/** Resident and peak resident memory of a process, from /proc/<pid>/status (Linux), in bytes. */
export function processMemory(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: field('VmRSS'), peak: field('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** CPU time a process has used so far, user and system, on all its threads, from /proc/<pid>/stat (Linux), in ms. */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are the 12th and 13th fields after the command name, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * CPU time of a process and all its descendants, living or ended (an ended child's time is in its
 * parent's cutime/cstime once reaped), in ms: PostgreSQL does its work in one child per connection.
 */
export function processTreeCpuMs(root: number): number {
  const stats = new Map<number, { ppid: number; ms: number; reaped: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ticks = (i: number) => Number(fields[i]) * 10;
      stats.set(Number(entry), { ppid: Number(fields[1]), ms: ticks(11) + ticks(12), reaped: ticks(13) + ticks(14) });
    } catch {
      // The process ended while we looked.
    }
  }
  if (!stats.has(root)) return NaN;
  let total = 0;
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    total += stats.get(pid)!.ms + stats.get(pid)!.reaped;
    for (const [child, s] of stats) if (s.ppid === pid) queue.push(child);
  }
  return total;
}

/** Follows a process's RSS once a second, so a peak within a phase is seen (VmHWM covers its whole life). */
export class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }
  sample(): number {
    const { rss } = processMemory(this.pid);
    if (rss > this.max) this.max = rss;
    return rss;
  }
  /** The largest RSS seen since the last reset, then starts a new phase. */
  phasePeak(): number {
    this.sample();
    const peak = this.max;
    this.max = 0;
    return peak;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * The dev server the SDK started for this process: a child of it (the SDK's native runtime spawns
 * it) whose command line names the database file.
 */
export function findServerPid(dbFilename: string): number | undefined {
  const candidates: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmdline.includes('start-dev') || !cmdline.includes(dbFilename)) continue;
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === process.pid) return Number(entry);
      candidates.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return candidates[0];
}

/** Bytes on disk of a file and its SQLite companions (-wal, -shm). */
export function sqliteBytes(dbFilename: string): { db: number; wal: number; total: number } {
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  const db = size(dbFilename);
  const wal = size(`${dbFilename}-wal`) + size(`${dbFilename}-shm`);
  return { db, wal, total: db + wal };
}

/** Bytes of every file under a folder. */
export function folderBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function rateList(value: string): number[] {
  const rates = value.split(',').map((v) => v.trim()).filter(Boolean).map(Number);
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new InvalidArgumentError('expected positive numbers separated by commas, e.g. 20,50');
  return rates;
}

/** One worker setup of the scale bench: a cache size ("default": the worker's own) and, optionally, a V8 heap limit in MiB. */
export interface CacheSetting {
  size: number | 'default';
  heapMiB?: number;
}

/** "default,250@512": sizes ("default" or a whole number), each optionally with @ a heap limit in MiB. */
export function cacheList(value: string): CacheSetting[] {
  const items = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected sizes separated by commas, e.g. default,250@512');
  return items.map((item) => {
    const match = /^(default|\d+)(?:@(\d+))?$/.exec(item);
    const size = match?.[1] === 'default' ? 'default' : Number(match?.[1]);
    if (!match || (size !== 'default' && size < 2)) throw new InvalidArgumentError(`"${item}": expected "default" or a whole number of at least 2, optionally followed by @ and a heap limit in MiB`);
    return { size, ...(match[2] && { heapMiB: Number(match[2]) }) };
  });
}

export const describeSetting = (s: CacheSetting) => `${s.size}${s.heapMiB ? `@${s.heapMiB}` : ''}`;

/** CPU time of the whole machine (all cores), from /proc/stat: busy and total jiffies. */
function cpuTimes(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/**
 * How busy the machine is just before a bench starts (its own servers idle): figures taken beside
 * other work (tests, a build) are skewed, so the bench says so instead of leaving the reader to guess.
 */
export async function machineLoad(): Promise<string> {
  const before = cpuTimes();
  await sleep(2000);
  const after = cpuTimes();
  const busyCores = ((after.busy - before.busy) / (after.total - before.total)) * availableParallelism();
  const [one] = loadavg() as [number, number, number];
  const busy = busyCores > 0.5;
  return `${Number.isFinite(busyCores) ? busyCores.toFixed(1) : '?'} of ${availableParallelism()} cores busy before the start (load average ${one.toFixed(1)})${busy ? ': BUSY, other work skews these figures' : ''}`;
}

/** The dev server's own log: errors only, so warnings of a loaded server do not bury the progress bars. */
export const SERVER_LOG = { format: 'pretty', level: 'error' } as const;

const cleanups = new Set<() => Promise<unknown> | unknown>();
let interrupted = false;

/**
 * Runs `cleanup` if the bench is interrupted (SIGINT, SIGTERM) before the returned function is
 * called, so a stopped bench leaves no dev server, worker or data folder behind.
 */
export function onInterrupt(cleanup: () => Promise<unknown> | unknown): () => void {
  if (cleanups.size === 0 && !interrupted) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        interrupted = true;
        console.error(`\n${signal}: stopping the bench's servers and worker`);
        void Promise.allSettled([...cleanups].reverse().map(async (c) => c())).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
