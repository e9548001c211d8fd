// `npm run bench`: how fast a burst of leads reaches the reps' inboxes and how soon a rep hears of a
// lead at a steady pace. The burst is printed beside a baseline measured in the same run on the same
// server: as many bare workflows that each run one no-op activity, started with the same
// concurrency, until all have completed (the engine's own ceiling for that shape), so a busier or
// slower machine shifts both alike. With --server cluster it runs on the dev server and on the local
// cluster (one worker, then two) in one run and prints them side by side (bench/leadRun.ts).
//
// Only Pipewright's public entry points are used (addLead, createWorker, startDevServer,
// startLocalCluster, startMailSink, the store), so the bench does not depend on how a journey routes
// its lead: a rep's notice is the first e-mail about the lead (naming its address, not sent to it)
// that is the assignment notice (Message-ID "<lead-...assigned@...>", or a "New ... lead" subject).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { startLocalCluster } from '../client/cluster';
import { withClient } from '../client/localPostgres';
import { stopProcess } from '../client/stopProcess';
import { startMailSink } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { openStore } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import { LINK_SECRETS_ENV, newLinkSecret, parseLinkKeys, useLinkKeys } from '../activities/signedLinks';
import { clusterBenchServer, devBenchServer } from './benchServers';
import { DRAIN_TARGET, leadTaskQueue, NoticeTracker, P99_TARGET_MS, P99_TARGET_RATE, printRun, runLeads, type RunResult, type RunSettings } from './leadRun';
import { kib, machineLoad, mib, ms, onInterrupt, positiveInt, rateList } from './measure';
import { saveProfile, startProfile } from './profile';

const program = new Command('npm run bench --')
  .description('Benchmark Pipewright on a fresh Temporal dev server (SQLite in WAL mode), the embedded store (PGlite) and a local SMTP sink, with the worker in this process; or, with --server cluster, compare it with the local cluster.')
  .addOption(new Option('--server <kind>', 'dev: the dev server alone; cluster: the dev server, then the local cluster (temporal-server on PostgreSQL, as `pipewright dev --cluster`) with one worker and with two, side by side').choices(['dev', 'cluster']).default('dev'))
  .option('--shards <n>', 'history shards of the local cluster (--server cluster)', positiveInt, 4)
  .option('--leads <n>', 'size of the burst: leads, and as many baseline workflows', positiveInt, 500)
  .option('--concurrency <n>', 'starts in flight at once, for the baseline and the leads alike', positiveInt, 32)
  .addOption(new Option('--rates <list>', 'steady phases, in leads per second, comma-separated (default: 20,50; with --server cluster: 20)').argParser(rateList))
  .option('--seconds <n>', 'length of each steady phase, in seconds', positiveInt, 30)
  .option('--patience <s>', 'give up waiting for rep notices after this many seconds without a new one', positiveInt, 60)
  .addOption(new Option('--config <file>', 'the config file the leads follow').default(join(packageRoot(), 'config', 'examples', 'default.yaml'), 'config/examples/default.yaml'))
  .option('--rep-cap <n>', "open leads each rep may hold in the bench, instead of the config's cap (a full pool queues leads, and the bench adds thousands)", positiveInt, 1_000_000)
  .option('--cpu-profile <file>', "profile the bench process's main thread (activities, store, client, SMTP sink) during the burst and steady phases, write it to FILE for Chrome's DevTools, and print its busiest packages")
  .option('--scale <n>', 'run the scale mode instead, with N waiting journeys: the same as `npm run bench:scale -- --journeys N` (see `npm run bench:scale -- --help`)', positiveInt)
  .addHelpText(
    'after',
    `
What it prints:
  1. baseline: N bare workflows that each run one no-op activity, started with --concurrency in flight,
     drained per second until all have completed (the engine's own ceiling for that shape);
  2. N leads added the same way, drained per second until every rep notice reached the SMTP sink,
     and the ratio of the two; the CPU each lead cost the Temporal server, PostgreSQL and the
     workers, and what it wrote to the server's persistence (SQLite file growth; on the cluster
     also PostgreSQL's transactions, rows and WAL), the server's own background work included
     (what it writes with no lead coming in is printed beside it);
  3. for each steady rate, the time from adding a lead to its rep notice arriving at the sink,
     p50 / p99 / max, each phase after the previous one's notices have all arrived.
A rep notice is the first e-mail that names the lead's address and is not sent to the lead.

With --server cluster the store is on the cluster's PostgreSQL in all three runs (a database each),
so only Temporal differs; the two-worker run adds a \`pipewright worker\` process (bench/workerProcess.ts)
and is compared with the one-worker run's baseline. It needs what \`pipewright dev --cluster\` needs.

Targets on the 2-core machine: drain >= ${DRAIN_TARGET} of the baseline's; p99 <= ${P99_TARGET_MS} ms at ${P99_TARGET_RATE} leads/s.
Run one bench at a time, on an otherwise idle machine: other work skews every figure.`,
  );

interface Options {
  server: 'dev' | 'cluster';
  shards: number;
  leads: number;
  concurrency: number;
  rates?: number[];
  seconds: number;
  patience: number;
  config: string;
  repCap: number;
  scale?: number;
  cpuProfile?: string;
}

/**
 * The config with every rep's cap of open leads raised: the bench measures the engine, not the
 * team's capacity, and its thousands of leads would otherwise fill the pools and queue. A config
 * without caps is returned as it is.
 */
function withRepCap(config: Config, cap: number): { config: Config; was?: number } {
  const routing = (config as { routing?: { cap?: unknown } }).routing;
  if (!routing || typeof routing.cap !== 'number') return { config };
  const team = (config as { team?: Array<{ cap?: unknown }> }).team;
  return {
    config: { ...config, routing: { ...routing, cap }, ...(team && { team: team.map((m) => (typeof m.cap === 'number' ? { ...m, cap } : m)) }) } as Config,
    was: routing.cap,
  };
}

async function main(options: Options): Promise<void> {
  if (options.scale !== undefined) {
    const { runScale, SCALE_DEFAULTS } = await import('./scale');
    return runScale({ ...SCALE_DEFAULTS, journeys: options.scale, concurrency: options.concurrency, config: options.config });
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const capped = withRepCap(loadConfig(options.config), options.repCap);
  if (capped.was !== undefined) console.log(`Reps may hold ${options.repCap} open leads in this bench (the config says ${capped.was}): full pools would queue the bench's leads`);
  const loadAtStart = await machineLoad();
  console.log(`Machine: ${loadAtStart}`);
  // The bench's e-mails are never clicked: a key of its own when none is set (in the environment,
  // so a worker process of the cluster run signs with it too).
  process.env[LINK_SECRETS_ENV] ??= newLinkSecret('bench');
  useLinkKeys(parseLinkKeys(process.env[LINK_SECRETS_ENV]));
  const dataDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (let step = cleanups.pop(); step; step = cleanups.pop()) await step().catch((err: unknown) => console.error(err));
  };
  const releaseInterrupt = onInterrupt(cleanUp);
  try {
    const notices = new NoticeTracker();
    const sink = await startMailSink({ onMessage: notices.onMessage });
    cleanups.push(() => sink.close());
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
    const common = { config: capped.config, notices, workflowBundle, mailer: sink.mailer({ pooled: true }), ...pick(options, 'leads', 'concurrency', 'seconds', 'patience') };
    const stopProfile = options.cpuProfile ? await startProfile() : undefined;

    if (options.server === 'dev') {
      const server = await devBenchServer(dataDir);
      cleanups.push(() => server.stop());
      // The store `pipewright dev` runs: PGlite behind a local port.
      const embedded = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), port: 0 });
      cleanups.push(() => embedded.close());
      const store = await openStore(embedded.url);
      cleanups.push(() => store.close());
      const run = await runLeads({ ...common, name: 'dev server', server, store, tag: 'dev', baseline: true, extraWorkerPids: [], rates: options.rates ?? [20, 50] });
      printRun(run, run.baseline!, 'dev server on SQLite/WAL, store in PGlite', options.patience);
    } else {
      const runs = await compareOnCluster(options, common, sink.url, dataDir, cleanups);
      printComparison(runs);
    }
    console.log(`  bench process peak RSS              ${mib(process.resourceUsage().maxRSS * 1024)} (client, worker, mail sink${options.server === 'dev' ? ' and PGlite' : ''} together)`);
    console.log(`  machine before the start             ${loadAtStart}`);
    const profile = stopProfile && (await stopProfile());
    if (profile) console.log(`\nMain thread of the bench process, by package (profile in ${options.cpuProfile}):\n${saveProfile(profile, options.cpuProfile!).map((l) => `  ${l}`).join('\n')}`);
  } finally {
    releaseInterrupt();
    await cleanUp();
  }
}

const pick = <T, K extends keyof T>(o: T, ...keys: K[]) => Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

type CommonSettings = Pick<RunSettings, 'config' | 'notices' | 'workflowBundle' | 'mailer' | 'leads' | 'concurrency' | 'seconds' | 'patience'>;
interface ClusterComparison {
  dev: RunResult;
  one: RunResult;
  two: RunResult;
  /** CPU the idle cluster used beside the dev server's run, in cores. */
  idleClusterCores: number;
}

/**
 * The same bench three times in one run: on the dev server, then on the local cluster with one
 * worker and with two (the bench's and a `pipewright worker` process). The store is a database of
 * its own per run on the cluster's PostgreSQL every time, so only Temporal differs between them.
 */
async function compareOnCluster(options: Options, common: CommonSettings, smtpUrl: string, dataDir: string, cleanups: Array<() => Promise<unknown>>): Promise<ClusterComparison> {
  const rates = options.rates ?? [P99_TARGET_RATE];
  const cluster = await startLocalCluster({ shards: options.shards, log: (line) => console.error(line) });
  cleanups.push(() => cluster.stop());
  const storeOf = async (database: string) => {
    await withClient(cluster.postgresUrl, (pg) => pg.query(`create database ${database}`));
    const url = new URL(cluster.postgresUrl);
    url.pathname = `/${database}`;
    const store = await openStore(url.toString());
    cleanups.push(() => store.close());
    return { store, url: url.toString() };
  };

  const clusterServer = await clusterBenchServer(cluster);
  cleanups.push(() => clusterServer.stop());
  const devServer = await devBenchServer(dataDir, cluster.pids().postgres);
  cleanups.push(() => devServer.stop());
  const clusterCpuBefore = clusterServer.cpu();
  const devStarted = Date.now();
  const dev = await runLeads({ ...common, name: 'dev server', server: devServer, store: (await storeOf('bench_dev')).store, tag: 'dev', baseline: true, extraWorkerPids: [], rates });
  const idleClusterCores = (clusterServer.cpu().temporal - clusterCpuBefore.temporal) / (Date.now() - devStarted);
  await devServer.stop();

  const one = await runLeads({ ...common, name: 'cluster, 1 worker', server: clusterServer, store: (await storeOf('bench_cluster_one')).store, tag: 'one', baseline: true, extraWorkerPids: [], rates });

  const twoStore = await storeOf('bench_cluster_two');
  const worker = await startWorkerProcess({
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    PIPEWRIGHT_TASK_QUEUE: leadTaskQueue('two'),
    PIPEWRIGHT_DATABASE_URL: twoStore.url,
    PIPEWRIGHT_SMTP_URL: smtpUrl,
  });
  cleanups.push(() => stopProcess(worker, 30_000));
  const two = await runLeads({ ...common, name: 'cluster, 2 workers', server: clusterServer, store: twoStore.store, tag: 'two', baseline: false, extraWorkerPids: [worker.pid!], rates });
  await stopProcess(worker, 30_000);

  printRun(dev, dev.baseline!, 'dev server on SQLite/WAL, store on PostgreSQL', options.patience);
  printRun(one, one.baseline!, `local cluster, ${cluster.shards} shards on PostgreSQL, store on the same PostgreSQL`, options.patience);
  printRun(two, one.baseline!, `local cluster, ${cluster.shards} shards on PostgreSQL, store on the same PostgreSQL`, options.patience);
  return { dev, one, two, idleClusterCores };
}

/** `pipewright worker`'s code in a process of its own, resolved once it polls. */
function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'workerProcess.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the second worker did not poll within 120 s:\n${output}`)), 120_000);
    const onData = (d: Buffer) => {
      output += d;
      if (/worker: polling task queue/.test(output)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        // Its warnings still reach the terminal.
        child.stderr.pipe(process.stderr);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the second worker exited with ${code}:\n${output}`));
    });
  });
}


const ms1 = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');

/** The three runs' figures side by side. */
function printComparison({ dev, one, two, idleClusterCores }: ClusterComparison): void {
  const runs = [dev, one, two];
  const baselineOf = (run: RunResult) => (run === two ? one.baseline! : run.baseline!);
  const rows: Array<[string, (run: RunResult) => string]> = [
    ['baseline drained', (r) => `${baselineOf(r).drain.toFixed(1)}/s${r === two ? ' (1 worker)' : ''}`],
    ['leads drained (ratio)', (r) => `${r.burst.drain.toFixed(1)}/s (${(r.burst.drain / baselineOf(r).drain).toFixed(2)})`],
    ...(dev.steady.map((s, i) => [`steady ${s.rate}/s p50 / p99`, (r: RunResult) => `${ms(r.steady[i]!.latency.p50)} / ${ms(r.steady[i]!.latency.p99)}`]) as Array<[string, (run: RunResult) => string]>),
    ['CPU/lead: Temporal server', (r) => ms1(r.burst.cpu.temporal)],
    ['CPU/lead: PostgreSQL', (r) => ms1(r.burst.cpu.postgres)],
    // The store does the same work in every run, so what the cluster's PostgreSQL spends beyond the dev run's is Temporal's.
    ['  of it Temporal (vs dev)', (r) => (r === dev ? '-' : ms1(r.burst.cpu.postgres - dev.burst.cpu.postgres))],
    ['CPU/lead: workers', (r) => ms1(r.burst.cpu.workers)],
    ['Temporal on disk/lead', (r) => kib(r.burst.persistence.bytes)],
    ['Temporal rows written/lead', (r) => (r.burst.persistence.rowsWritten === undefined ? 'in SQLite' : r.burst.persistence.rowsWritten.toFixed(1))],
    ['Temporal transactions/lead', (r) => (r.burst.persistence.transactions === undefined ? 'in SQLite' : r.burst.persistence.transactions.toFixed(1))],
    ['WAL/lead (all databases)', (r) => (r.burst.persistence.walBytes === undefined ? 'in SQLite' : kib(r.burst.persistence.walBytes))],
  ];
  const width = 24;
  console.log(`\nSide by side, one run on this machine (${availableParallelism()} cores); the store is on the cluster's PostgreSQL in all three, so its CPU there is the store's alone in the dev server's run:`);
  console.log(`  ${''.padEnd(28)}${runs.map((r) => r.name.padEnd(width)).join('')}`);
  for (const [label, cell] of rows) console.log(`  ${label.padEnd(28)}${runs.map((r) => cell(r).padEnd(width)).join('')}`);
  console.log(`  Transactions count reads too (PostgreSQL's xact_commit); rows written are inserted, updated and deleted rows; WAL covers the store's database as well.`);
  console.log(`  The idle cluster used ${idleClusterCores.toFixed(2)} of a core beside the dev server's run.`);
}

main(program.parse().opts<Options>()).catch((err) => {
  console.error(err);
  process.exit(1);
});
