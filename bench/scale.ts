// `npm run bench:scale`: what waiting journeys cost. For each workflow-cache size asked for, on a fresh
// dev server (SQLite file in WAL mode), store and mail sink:
//   1. adds N leads the example config nurtures (a middling fit and no interest yet), in a time zone
//      where it is the middle of the night, so each journey's nurture cadence waits on a timer for the
//      send window; then waits until the worker is idle: every journey is then waiting on a timer;
//   2. reports the worker process's RSS, the dev server's RSS, and the SQLite file (+ WAL) per journey;
//   3. starts T bench timers (bench/workflows.ts `benchTimer`: a workflow that sleeps until its due time
//      and then reports through an activity) beside the waiting journeys, due at a steady rate once
//      the worker has started them all, and reports how late they woke (workflow time) and how late
//      their activity ran (wall time), p50/p99. The journeys' own timers are hours or days away, so
//      they cannot be watched coming due in a bench: the bench timers share their worker, cache and
//      server, and are evicted from the cache by them and replayed just as a journey would be.
//
// The worker runs in a child process (bench/scaleWorker.ts), so its RSS is its own; the dev server's
// RSS is read from /proc/<pid>/status of the server process the SDK started for this bench.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { addLead } from '../client/leads';
import { startMailSink } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import { startDevServer } from '../client/servers';
import type { Lead } from '../config/lead';
import { loadConfig } from '../config/load';
import { openStore } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import {
  burst,
  cacheList,
  describeSetting,
  type CacheSetting,
  findServerPid,
  folderBytes,
  kib,
  machineLoad,
  mib,
  MiB,
  ms,
  positiveInt,
  positiveNumber,
  processMemory,
  progress,
  RssSampler,
  SERVER_LOG,
  onInterrupt,
  sleep,
  sqliteBytes,
  summary,
  waitForCount,
} from './measure';
import type { FromScaleWorker, ScaleWorkerArgs, ToScaleWorker } from './scaleWorker';

export interface ScaleOptions {
  journeys: number;
  /** Worker setups to run, each on a fresh server: cache size and, optionally, V8 heap limit. */
  cache: CacheSetting[];
  /** Bench timers; 0 skips the timer phase; by default as many as journeys. */
  timers?: number;
  timerRate: number;
  /** The worker process's V8 heap limit (--max-old-space-size) in MiB where a setting names none; by default Node's own. */
  workerHeap?: number;
  /** Modules the workflow bundle loads once and shares between cached workflows (bundleWorkflowCode's preloadModules). */
  preload?: string[];
  concurrency: number;
  patience: number;
  config: string;
}

export const SCALE_DEFAULTS: ScaleOptions = {
  journeys: 10_000,
  cache: [{ size: 'default' }, { size: 250, heapMiB: 512 }],
  timerRate: 50,
  concurrency: 32,
  patience: 120,
  config: join(packageRoot(), 'config', 'examples', 'default.yaml'),
};

const taskQueue = 'bench-scale';
const STAGE_QUERY = 'PipewrightStage = "nurturing" AND ExecutionStatus = "Running"';
const GiB = 1024 * MiB;

/**
 * An Etc/GMT zone where it is now between 01:00 and 02:00: no send window of a sane config is open,
 * so a nurtured lead's first e-mail waits hours on a timer. (Etc/GMT-9 is UTC+9: the sign is POSIX's.)
 */
function nightZone(now = new Date()): string {
  let offset = (1 - now.getUTCHours() + 24) % 24;
  if (offset > 14) offset -= 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/**
 * A lead the example config nurtures: a region and a size it wants but an industry it does not, a
 * middling fit (grade B of the version-4 journeys, outside the ICP of earlier ones) with no interest yet.
 */
function nurturedLead(i: number, timezone: string): Lead {
  return {
    email: `scale-${i}@shop-${i}.example`,
    firstName: 'Scale',
    company: `Shop ${i}`,
    industry: 'retail',
    region: 'kr',
    employees: 100,
    source: 'inbound',
    timezone,
  };
}

interface RunResult {
  cache: CacheSetting;
  cacheSize: number;
  heapLimit: number;
  journeys: number;
  intakePerSecond: number;
  settleSeconds: number;
  nurturing: number;
  cachedAfterSettle: number;
  mails: number;
  worker: { idle: number; settled: number; peakAdding: number; afterTimers?: number; peakTimers?: number; hwm: number };
  server: { idle: number; settled: number; peakAdding: number; afterTimers?: number; peakTimers?: number; hwm: number };
  sqlite: { before: number; settled: number; db: number; wal: number };
  storeBytes: { before: number; settled: number };
  timers?: { n: number; fired: number; startedLate: number; woke: ReturnType<typeof summary>; ran: ReturnType<typeof summary> };
  loadAtStart: string;
}

export async function runScale(options: ScaleOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig(options.config);
  const root = mkdtempSync(join(tmpdir(), 'pipewright-scale-'));
  const bundlePath = join(root, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: new DefaultLogger('WARN'),
    ...(options.preload?.length && { preloadModules: options.preload }),
  });
  writeFileSync(bundlePath, code);
  const results: RunResult[] = [];
  const forget = onInterrupt(() => rmSync(root, { recursive: true, force: true }));
  try {
    for (const setting of options.cache) {
      const cache = { ...setting, ...(setting.heapMiB === undefined && options.workerHeap !== undefined && { heapMiB: options.workerHeap }) };
      const heap = cache.heapMiB ? `, V8 heap limit ${cache.heapMiB} MiB` : '';
      console.log(`\n=== ${options.journeys} waiting journeys, worker cache ${cache.size === 'default' ? "at Pipewright's default" : cache.size}${heap} ===`);
      const result = await scaleRun(options, cache, config, root, bundlePath);
      results.push(result);
      // Each run's figures as soon as they are in: a long series may be cut short.
      if (options.cache.length > 1) report(options, [result]);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    forget();
  }
  report(options, results);
}

/** The worker process, and what it tells the bench. */
class WorkerProcess {
  status = { cached: 0, activations: 0, activities: 0, at: 0 };
  readonly fired: Array<Extract<FromScaleWorker, { type: 'fired' }>> = [];
  cacheSize = -1;
  heapLimit = NaN;
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    // A message to a worker that has just ended is dropped, not thrown: check() reports the end.
    child.on('error', () => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: FromScaleWorker) => {
        if (message.type === 'ready') {
          this.cacheSize = message.maxCachedWorkflows;
          this.heapLimit = message.heapLimit;
          resolve();
        } else if (message.type === 'status') this.status = { ...message, at: Date.now() };
        else if (message.type === 'fired') this.fired.push(message);
      });
      child.once('exit', (code) => reject(new Error(`the worker process exited with ${code} before it was ready`)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Throws once the worker process has ended: nothing more will happen. */
  check(): void {
    if (this.ended) {
      throw new Error(`the worker process ended (${this.child.signalCode ?? `exit code ${this.child.exitCode}`}); its log is above`);
    }
  }

  get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(message: ToScaleWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ type: 'stop' });
    await Promise.race([exited, sleep(30_000)]);
    if (!this.ended) this.child.kill('SIGKILL');
  }
}

async function scaleRun(options: ScaleOptions, cache: CacheSetting, config: ReturnType<typeof loadConfig>, root: string, bundlePath: string): Promise<RunResult> {
  const { journeys, concurrency, patience } = options;
  const timers = options.timers ?? journeys;
  const loadAtStart = await machineLoad();
  console.log(`Machine: ${loadAtStart}`);
  const dataDir = mkdtempSync(join(root, 'run-'));
  const dbFilename = join(dataDir, 'temporal.sqlite');
  const storeDir = join(dataDir, 'store');
  const env = await startDevServer({ dbFilename, log: SERVER_LOG }, console.error);
  let worker: WorkerProcess | undefined;
  const samplers: RssSampler[] = [];
  const forget = onInterrupt(async () => {
    worker?.child.kill('SIGKILL');
    await env.teardown();
  });
  try {
    const serverPid = findServerPid(dbFilename);
    if (!serverPid) console.error(`could not find the dev server's process (looked for start-dev with ${dbFilename}); its memory is not reported`);
    let mails = 0;
    const sink = await startMailSink({ onMessage: () => mails++ });
    const embedded = await startEmbeddedStore({ dataDir: storeDir, port: 0 });
    const store = await openStore(embedded.url);

    // The worker, in its own process.
    const args: ScaleWorkerArgs = {
      address: env.address,
      namespace: env.namespace ?? 'default',
      taskQueue,
      storeUrl: embedded.url,
      smtpUrl: sink.url,
      bundlePath,
      ...(cache.size !== 'default' && { maxCachedWorkflows: cache.size }),
    };
    // The heap limit applies to every V8 isolate in the process, the workflow thread's (where the cache lives) too.
    const execArgv = cache.heapMiB ? [`--max-old-space-size=${cache.heapMiB}`] : [];
    worker = new WorkerProcess(fork(join(__dirname, 'scaleWorker.js'), [JSON.stringify(args)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await worker.ready;
    const w = worker;
    console.log(
      `worker pid ${w.pid} (maxCachedWorkflows ${w.cacheSize}, V8 heap limit ${mib(w.heapLimit)}), dev server pid ${serverPid ?? '?'}, SQLite ${dbFilename}`,
    );
    const workerRss = new RssSampler(w.pid);
    const serverRss = serverPid ? new RssSampler(serverPid) : undefined;
    samplers.push(workerRss, ...(serverRss ? [serverRss] : []));
    await sleep(2000);
    const idle = { worker: workerRss.sample(), server: serverRss?.sample() ?? NaN, sqlite: sqliteBytes(dbFilename).total, store: folderBytes(storeDir) };
    workerRss.phasePeak();
    serverRss?.phasePeak();

    // 1. N nurtured leads, then wait until the worker has nothing left to do.
    const zone = nightZone();
    console.log(`1. ${journeys} nurtured leads (retail, kr, 100 employees; time zone ${zone}: ${new Date().toLocaleTimeString('en-GB', { timeZone: zone })} there), ${concurrency} adds in flight`);
    const settleStart = performance.now();
    const intake = await burst('leads added', journeys, concurrency, (i) => addLead(env.client, store, taskQueue, config, nurturedLead(i, zone)));
    const nurturing = await settle(env.client, journeys, statusOf(w), patience);
    const settleSeconds = (performance.now() - settleStart) / 1000;
    await sleep(2000);
    const peakAdding = { worker: workerRss.phasePeak(), server: serverRss?.phasePeak() ?? NaN };
    const cachedAfterSettle = w.status.cached;
    const settled = {
      worker: workerRss.sample(),
      server: serverRss?.sample() ?? NaN,
      sqlite: sqliteBytes(dbFilename),
      store: folderBytes(storeDir),
    };
    console.log(
      `   all waiting after ${settleSeconds.toFixed(0)} s: ${nurturing} nurturing; worker RSS ${mib(settled.worker)} with ${cachedAfterSettle} cached, ` +
        `server RSS ${mib(settled.server)}, SQLite ${mib(settled.sqlite.total)}`,
    );

    // 2. Bench timers beside the waiting journeys, due at a steady rate once the worker has started them all.
    let timerResult: RunResult['timers'];
    let afterTimers: { worker: number; server: number; peakWorker: number; peakServer: number } | undefined;
    if (timers > 0) {
      const rate = options.timerRate;
      // Time to start them (a bare start is cheaper than adding a lead) and for the worker to run each
      // one's first task (a quarter of a nurtured journey's work, measured above), with room to spare.
      const settleRate = journeys / settleSeconds;
      const leadMs = 30_000 + (timers / intake.perSecond) * 1000 + (timers / (4 * settleRate)) * 1000;
      const firstDue = Date.now() + leadMs;
      console.log(`2. ${timers} bench timers, due at ${rate}/s from ${(leadMs / 1000).toFixed(0)} s from now, over ${(timers / rate).toFixed(0)} s`);
      await burst('bench timers started', timers, concurrency, (i) =>
        env.client.workflow.start('benchTimer', { workflowId: `timer-${i}`, taskQueue, args: [Math.round(firstDue + (i * 1000) / rate)] }),
      );
      await quiet(statusOf(w), 3000, Math.max(0, firstDue - Date.now()));
      const wait = firstDue - Date.now();
      if (wait > 0) {
        console.log(`   all started; first timer due in ${(wait / 1000).toFixed(0)} s`);
        await sleep(wait);
      } else console.log(`   WARNING: the worker was still starting bench timers ${(-wait / 1000).toFixed(0)} s after the first came due`);
      workerRss.phasePeak();
      serverRss?.phasePeak();
      await waitForCount('bench timers fired', timers, () => (w.check(), w.fired.length), patience * 1000);
      const slept = w.fired.filter((f) => f.slept);
      timerResult = {
        n: timers,
        fired: w.fired.length,
        startedLate: w.fired.length - slept.length,
        woke: summary(slept.map((f) => f.wokeAt - f.dueAt)),
        ran: summary(slept.map((f) => f.ranAt - f.dueAt)),
      };
      console.log(`   woke late p50 ${ms(timerResult.woke.p50)}, p99 ${ms(timerResult.woke.p99)}; activity ran late p50 ${ms(timerResult.ran.p50)}, p99 ${ms(timerResult.ran.p99)}`);
      if (timerResult.startedLate) console.log(`   ${timerResult.startedLate} timers first ran after they were due: left out of the lateness`);
      await sleep(1000);
      afterTimers = { peakWorker: workerRss.phasePeak(), peakServer: serverRss?.phasePeak() ?? NaN, worker: workerRss.sample(), server: serverRss?.sample() ?? NaN };
    }
    const hwm = { worker: processMemory(w.pid).peak, server: serverPid ? processMemory(serverPid).peak : NaN };

    await w.stop();
    worker = undefined;
    await sink.close();
    await store.close();
    await embedded.close();
    return {
      cache,
      cacheSize: w.cacheSize,
      heapLimit: w.heapLimit,
      journeys,
      intakePerSecond: intake.perSecond,
      settleSeconds,
      nurturing,
      cachedAfterSettle,
      mails,
      worker: {
        idle: idle.worker,
        settled: settled.worker,
        peakAdding: peakAdding.worker,
        ...(afterTimers && { afterTimers: afterTimers.worker, peakTimers: afterTimers.peakWorker }),
        hwm: hwm.worker,
      },
      server: {
        idle: idle.server,
        settled: settled.server,
        peakAdding: peakAdding.server,
        ...(afterTimers && { afterTimers: afterTimers.server, peakTimers: afterTimers.peakServer }),
        hwm: hwm.server,
      },
      sqlite: { before: idle.sqlite, settled: settled.sqlite.total, db: settled.sqlite.db, wal: settled.sqlite.wal },
      storeBytes: { before: idle.store, settled: settled.store },
      ...(timerResult && { timers: timerResult }),
      loadAtStart,
    };
  } finally {
    for (const s of samplers) s.stop();
    await worker?.stop();
    await env.teardown();
    forget();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Status = () => { activations: number; activities: number; at: number };

/** Reads the worker's status, and throws if its process has ended. */
const statusOf = (w: WorkerProcess): Status => () => {
  w.check();
  return w.status;
};

/** True while the worker has a workflow activation or an activity in flight (or has stopped reporting). */
const busy = (s: ReturnType<Status>) => s.activations > 0 || s.activities > 0 || Date.now() - s.at > 2000;

/** Waits until the worker has been idle for `forMs`, or at most `atMostMs`. */
async function quiet(status: Status, forMs: number, atMostMs: number): Promise<void> {
  const until = performance.now() + atMostMs;
  let since: number | undefined;
  while (performance.now() < until) {
    since = busy(status()) ? undefined : (since ?? performance.now());
    if (since !== undefined && performance.now() - since >= forMs) return;
    await sleep(250);
  }
}

/**
 * Waits until every journey has done what it does at once and is waiting: the worker has had no
 * workflow activation or activity in flight for 5 s (or 2 s once all N show the nurturing stage in
 * visibility). The bar counts journeys whose search attributes say they are nurturing.
 */
async function settle(client: Client, n: number, status: Status, patienceSeconds: number): Promise<number> {
  const bar = progress('journeys waiting', n, ' (nurturing, per visibility)');
  let nurturing = 0;
  let quietSince: number | undefined;
  let lastChange = performance.now();
  let lastCount = -1;
  for (;;) {
    try {
      nurturing = (await client.workflow.count(STAGE_QUERY)).count;
    } catch {
      nurturing = NaN;
    }
    bar.update(Number.isFinite(nurturing) ? nurturing : 0);
    quietSince = busy(status()) ? undefined : (quietSince ?? performance.now());
    const quietFor = quietSince === undefined ? 0 : performance.now() - quietSince;
    if (nurturing !== lastCount) {
      lastCount = nurturing;
      lastChange = performance.now();
    }
    if (quietFor >= (nurturing >= n ? 2000 : 5000)) break;
    if (performance.now() - lastChange > patienceSeconds * 1000 && quietFor > 0) break;
    await sleep(1000);
  }
  bar.stop();
  return nurturing;
}

function report(options: ScaleOptions, results: RunResult[]): void {
  const row = (label: string, cell: (r: RunResult) => string) => console.log(`  ${label.padEnd(46)}${results.map((r) => cell(r).padEnd(30)).join('')}`);
  console.log(`\nResults: ${options.journeys} waiting journeys (nurtured leads), dev server on SQLite/WAL, worker in its own process`);
  row('worker setting (--cache)', (r) => describeSetting(r.cache));
  row('worker cache (maxCachedWorkflows)', (r) => `${r.cache.size === 'default' ? 'default: ' : ''}${r.cacheSize}`);
  row('worker V8 heap limit', (r) => `${mib(r.heapLimit)}${r.cache.heapMiB ? '' : " (Node's default)"}`);
  if (options.preload?.length) row('modules shared by cached workflows', () => options.preload!.join(', '));
  row('leads added', (r) => `${r.intakePerSecond.toFixed(1)}/s`);
  row('all waiting after', (r) => `${r.settleSeconds.toFixed(0)} s (${r.nurturing} nurturing)`);
  row('workflows in the cache then', (r) => `${r.cachedAfterSettle}`);
  row('worker RSS: idle, before the leads', (r) => mib(r.worker.idle));
  row('worker RSS: journeys waiting', (r) => mib(r.worker.settled));
  row('worker RSS: peak while adding', (r) => mib(r.worker.peakAdding));
  row('server RSS: idle / journeys waiting', (r) => `${mib(r.server.idle)} / ${mib(r.server.settled)}`);
  row('server RSS: peak while adding', (r) => mib(r.server.peakAdding));
  row('SQLite (db + WAL) per journey', (r) => kib((r.sqlite.settled - r.sqlite.before) / r.journeys));
  row('SQLite total: db + WAL', (r) => `${mib(r.sqlite.db)} + ${mib(r.sqlite.wal)}`);
  row('store (PGlite folder) per journey', (r) => kib((r.storeBytes.settled - r.storeBytes.before) / r.journeys));
  row('e-mails sent by the journeys', (r) => `${r.mails}`);
  if (results.some((r) => r.timers)) {
    row('bench timers', (r) => (r.timers ? `${r.timers.n}, due at ${options.timerRate}/s` : '-'));
    row('fired (of which started after due)', (r) => (r.timers ? `${r.timers.fired} (${r.timers.startedLate})` : '-'));
    row('woke late (workflow time) p50 / p99', (r) => (r.timers ? `${ms(r.timers.woke.p50)} / ${ms(r.timers.woke.p99)}` : '-'));
    row('activity ran late (wall time) p50 / p99', (r) => (r.timers ? `${ms(r.timers.ran.p50)} / ${ms(r.timers.ran.p99)}` : '-'));
    row('worker RSS: after timers', (r) => mib(r.worker.afterTimers ?? NaN));
    row('worker RSS: peak while timers fired', (r) => mib(r.worker.peakTimers ?? NaN));
    row('server RSS: after timers / peak then', (r) => `${mib(r.server.afterTimers ?? NaN)} / ${mib(r.server.peakTimers ?? NaN)}`);
  }
  row('worker peak RSS (VmHWM, whole run)', (r) => `${mib(r.worker.hwm)}${r.worker.hwm > GiB ? ' (over 1 GiB)' : ''}`);
  row('server peak RSS (VmHWM, whole run)', (r) => mib(r.server.hwm));
  row('machine at the start', (r) => (r.loadAtStart.includes('BUSY') ? 'BUSY' : 'quiet'));
  const [a, b] = results;
  if (a && b && a.cachedAfterSettle !== b.cachedAfterSettle) {
    const perCached = (a.worker.settled - b.worker.settled) / (a.cachedAfterSettle - b.cachedAfterSettle);
    console.log(`  one more cached journey costs the worker about ${kib(perCached)} of RSS (journeys waiting, first two runs)`);
  }
  console.log("  Bench timers are bench/workflows.ts benchTimer workflows, not journeys: they share the journeys' worker, cache and server.");
  for (const r of results) if (r.loadAtStart.includes('BUSY')) console.log(`  Run with cache ${r.cacheSize} started on a busy machine: ${r.loadAtStart}`);
}

if (require.main === module) {
  const program = new Command('npm run bench:scale --')
    .description(
      "Waiting journeys at scale: N nurtured leads waiting on timers; the worker's and the dev server's RSS; SQLite per journey; how late timers fire when they come due. Once per workflow-cache size, each on a fresh dev server. The worker runs in its own process (bench/scaleWorker.ts).",
    )
    .option('--journeys <n>', 'waiting journeys (nurtured leads) to start', positiveInt, SCALE_DEFAULTS.journeys)
    .addOption(
      new Option(
        '--cache <list>',
        'worker setups to run, comma-separated: a cache size (maxCachedWorkflows; "default" is Pipewright\'s, PIPEWRIGHT_WORKFLOW_CACHE or 1,000), optionally @ the V8 heap limit in MiB (node --max-old-space-size)',
      )
        .argParser(cacheList)
        .default(SCALE_DEFAULTS.cache, SCALE_DEFAULTS.cache.map(describeSetting).join(',')),
    )
    .option('--timers <n>', 'bench timers to start beside the journeys; 0 skips the timer phase (default: as many as journeys)', (v) => (v === '0' ? 0 : positiveInt(v)))
    .option('--timer-rate <n>', 'bench timers coming due per second', positiveNumber, SCALE_DEFAULTS.timerRate)
    .option('--worker-heap <MiB>', "the V8 heap limit of the worker process for setups that name none (default: Node's own)", positiveInt)
    .option('--preload <modules>', 'modules the workflow bundle loads once and shares between cached workflows (bundleWorkflowCode preloadModules), comma-separated, e.g. zod', (v) => v.split(',').map((m) => m.trim()).filter(Boolean))
    .option('--concurrency <n>', 'adds and starts in flight at once', positiveInt, SCALE_DEFAULTS.concurrency)
    .option('--patience <s>', 'stop waiting after this many seconds without progress', positiveInt, SCALE_DEFAULTS.patience)
    .addOption(new Option('--config <file>', 'the config file the leads follow').default(SCALE_DEFAULTS.config, 'config/examples/default.yaml'))
    .addHelpText(
      'after',
      `
The worker's RSS is the VmRSS of its process (bench/scaleWorker.ts: createWorker, a pg pool, an SMTP
client), peaks sampled once a second and VmHWM; the dev server's is the VmRSS of the server process
the SDK started. SQLite per journey is the growth of the database file and its WAL, divided by N.

Target: 100,000 waiting journeys with the worker under 1 GiB. Run one bench at a time, on an
otherwise idle machine.`,
    )
    .parse();
  runScale(program.opts<ScaleOptions>()).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
