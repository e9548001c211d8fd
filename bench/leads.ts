// `npm run bench`: how fast a burst of leads reaches the reps' inboxes and how soon a rep hears of a
// lead at a steady pace, on the Temporal dev server. The burst is printed beside a baseline measured
// in the same run on the same server: as many bare workflows that each run one no-op activity,
// started with the same concurrency, until all have completed (the engine's own ceiling for that
// shape), so a busier or slower machine shifts both alike.
//
// Only Pipewright's public entry points are used (addLead, createWorker, startDevServer,
// startMailSink, the store), so the bench does not depend on how a journey routes its lead: a rep's
// notice is the first e-mail about the lead (naming its address, not sent to it) that is the
// assignment notice (Message-ID "<lead-...assigned@...>", or a "New ... lead" subject).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { addLead } from '../client/leads';
import { startMailSink, type ReceivedMail } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import { startDevServer } from '../client/servers';
import { loadConfig } from '../config/load';
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import { openStore } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import { createWorker } from '../worker/worker';
import { LINK_SECRETS_ENV, newLinkSecret, parseLinkKeys, useLinkKeys } from '../activities/signedLinks';
import { burst, findServerPid, machineLoad, mib, ms, onInterrupt, processCpuMs, positiveInt, rateList, SERVER_LOG, sleep, summary, waitForCount } from './measure';
import { saveProfile, startProfile } from './profile';
import type { BenchActivities } from './workflows';

const DRAIN_TARGET = 0.7;
const P99_TARGET_MS = 500;
const P99_TARGET_RATE = 20;

const program = new Command('npm run bench --')
  .description('Benchmark Pipewright on a fresh Temporal dev server (SQLite in WAL mode), the embedded store (PGlite) and a local SMTP sink, with the worker in this process.')
  .option('--leads <n>', 'size of the burst: leads, and as many baseline workflows', positiveInt, 500)
  .option('--concurrency <n>', 'starts in flight at once, for the baseline and the leads alike', positiveInt, 32)
  .addOption(new Option('--rates <list>', 'steady phases, in leads per second, comma-separated').argParser(rateList).default([20, 50], '20,50'))
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
     and the ratio of the two;
  3. for each steady rate, the time from adding a lead to its rep notice arriving at the sink,
     p50 / p99 / max, each phase after the previous one's notices have all arrived.
A rep notice is the first e-mail that names the lead's address and is not sent to the lead.

Targets on the 2-core machine: drain >= ${DRAIN_TARGET} of the baseline's; p99 <= ${P99_TARGET_MS} ms at ${P99_TARGET_RATE} leads/s.
Run one bench at a time, on an otherwise idle machine: other work skews every figure.`,
  );

interface Options {
  leads: number;
  concurrency: number;
  rates: number[];
  seconds: number;
  patience: number;
  config: string;
  repCap: number;
  scale?: number;
  cpuProfile?: string;
}

const taskQueue = 'bench';
const baselineQueue = 'bench-baseline';
const LEAD_ADDRESS = /bench-[a-z0-9]+-\d+@acme-\d+\.example/g;

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

/** The rep's notice of an assignment, as opposed to reminders, escalations and other team mail. */
const isAssignmentNotice = (mail: ReceivedMail) => /\.assigned@/.test(mail.messageId ?? '') || /^New \w+ lead/.test(mail.subject);

let serial = 0;
/** A lead the example config sends to a rep: inbound, and inside the ideal customer profile (fit grade A). */
const lead = (phase: string): Lead => ({
  email: `bench-${phase}-${++serial}@acme-${serial}.example`,
  firstName: 'Bench',
  company: `Acme ${serial}`,
  industry: 'software',
  region: 'kr',
  employees: 50,
  source: 'inbound',
});

async function main(options: Options): Promise<void> {
  if (options.scale !== undefined) {
    const { runScale, SCALE_DEFAULTS } = await import('./scale');
    return runScale({ ...SCALE_DEFAULTS, journeys: options.scale, concurrency: options.concurrency, config: options.config });
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const capped = withRepCap(loadConfig(options.config), options.repCap);
  const config = capped.config;
  if (capped.was !== undefined) console.log(`Reps may hold ${options.repCap} open leads in this bench (the config says ${capped.was}): full pools would queue the bench's leads`);
  const loadAtStart = await machineLoad();
  console.log(`Machine: ${loadAtStart}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-'));
  // The same storage `pipewright dev` uses: a SQLite file in WAL mode.
  const env = await startDevServer({ dbFilename: join(dataDir, 'temporal.sqlite'), log: SERVER_LOG }, console.error);
  const serverPid = findServerPid(join(dataDir, 'temporal.sqlite'));
  /** CPU used so far by the dev server, and by this process (worker, client, store, mail sink) on all its threads, in ms. */
  const cpu = () => {
    const own = process.cpuUsage();
    return { server: serverPid ? processCpuMs(serverPid) : NaN, bench: (own.user + own.system) / 1000 };
  };
  const cpuPer = (before: ReturnType<typeof cpu>, n: number) => {
    const after = cpu();
    return { server: (after.server - before.server) / n, bench: (after.bench - before.bench) / n };
  };
  onInterrupt(async () => {
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** When each lead's rep notice arrived; any other mail about a bench lead is counted apart. */
  const notifiedAt = new Map<string, number>();
  let otherTeamMail = 0;
  const onMessage = (mail: ReceivedMail) => {
    const at = Date.now();
    const named = new Set(`${mail.subject}\n${mail.text}`.match(LEAD_ADDRESS) ?? []);
    for (const address of named) {
      if (mail.to.includes(address)) continue;
      if (!notifiedAt.has(address) && isAssignmentNotice(mail)) notifiedAt.set(address, at);
      else otherTeamMail++;
    }
  };
  const sink = await startMailSink({ onMessage });
  // The store `pipewright dev` runs: PGlite behind a local port.
  const embedded = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), port: 0 });
  const store = await openStore(embedded.url);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  const { leads, concurrency, rates, seconds, patience } = options;

  // 1. Baseline: a worker with the SDK's defaults, as createWorker makes it, and one no-op activity.
  let noopsRun = 0;
  const baselineActivities: Pick<BenchActivities, 'benchNoop'> = {
    benchNoop: async () => {
      noopsRun++;
    },
  };
  const baselineWorker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue: baselineQueue,
    workflowBundle,
    activities: baselineActivities,
  });
  console.log(`\n1. Baseline: ${leads} workflows of one no-op activity, ${concurrency} starts in flight, until all complete`);
  const baseline = await baselineWorker.runUntil(async () => {
    const startedAt = Date.now();
    const cpuAtStart = cpu();
    const starts = await burst('baseline started', leads, concurrency, (i) =>
      env.client.workflow.start('benchOneActivity', { workflowId: `baseline-${i}`, taskQueue: baselineQueue }),
    );
    await waitForCount('baseline activities run', leads, () => noopsRun, patience * 1000);
    const completedQuery = `WorkflowType = "benchOneActivity" AND ExecutionStatus = "Completed"`;
    const completed = await waitForCount('baseline completed', leads, async () => (await env.client.workflow.count(completedQuery)).count, patience * 1000, 250);
    let lastClose = 0;
    for await (const wf of env.client.workflow.list({ query: completedQuery })) lastClose = Math.max(lastClose, wf.closeTime?.getTime() ?? 0);
    const drainSeconds = (lastClose - startedAt) / 1000;
    return { starts, completed, drainSeconds, drain: completed / drainSeconds, cpu: cpuPer(cpuAtStart, leads) };
  });

  // The bench's e-mails are never clicked: a key of its own when none is set.
  if (!process.env[LINK_SECRETS_ENV]) useLinkKeys(parseLinkKeys(newLinkSecret('bench')));
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    client: env.client,
    mailer: sink.mailer({ pooled: true }),
    store,
    workflowBundle,
  });
  const cacheSize = worker.options.maxCachedWorkflows;

  const stopProfile = options.cpuProfile ? await startProfile() : undefined;
  const results = await worker.runUntil(async () => {
    // 2. The same number of leads, until every rep's notice has reached the SMTP sink.
    console.log(`\n2. Burst: ${leads} leads, ${concurrency} adds in flight, until every rep notice reached the SMTP sink`);
    const burstLeads: string[] = [];
    const startedAt = Date.now();
    const cpuAtStart = cpu();
    const adds = await burst('leads added', leads, concurrency, async () => {
      const l = lead('burst');
      burstLeads.push(l.email);
      await addLead(env.client, store, taskQueue, config, l);
    });
    const notified = await waitForCount('rep notices at the sink', leads, () => burstLeads.filter((e) => notifiedAt.has(e)).length, patience * 1000);
    const lastNotice = Math.max(...burstLeads.map((e) => notifiedAt.get(e) ?? 0));
    const drainSeconds = (lastNotice - startedAt) / 1000;
    const burstResult = { adds, notified, drainSeconds, drain: notified / drainSeconds, otherMail: otherTeamMail, cpu: cpuPer(cpuAtStart, leads) };

    // 3. Steady phases, each after the previous one's journeys have all reached their reps.
    const steady = [];
    for (const rate of rates) {
      console.log(`\n3. Steady: ${rate} leads/s for ${seconds} s, time from add to the rep's notice at the SMTP sink`);
      const total = Math.round(rate * seconds);
      const addedAt = new Map<string, number>();
      const addTook: number[] = [];
      const bar = waitForCount('leads added', total, () => addTook.length, Number.MAX_SAFE_INTEGER, 250);
      const mailBefore = otherTeamMail;
      const phaseStart = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        // Each add is due at its own slot, so a slow add never pushes the schedule back.
        const wait = phaseStart + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        const l = lead(`steady${rate}`);
        const t = Date.now();
        addedAt.set(l.email, t);
        pending.push(addLead(env.client, store, taskQueue, config, l).then(() => addTook.push(Date.now() - t)));
      }
      await Promise.all(pending);
      const achieved = total / ((performance.now() - phaseStart) / 1000);
      await bar;
      const emails = [...addedAt.keys()];
      await waitForCount('rep notices at the sink', total, () => emails.filter((e) => notifiedAt.has(e)).length, patience * 1000);
      const latencies = emails.filter((e) => notifiedAt.has(e)).map((e) => notifiedAt.get(e)! - addedAt.get(e)!);
      steady.push({ rate, total, achieved, latency: summary(latencies), add: summary(addTook), otherMail: otherTeamMail - mailBefore });
    }
    return { burst: burstResult, steady };
  });

  const profile = stopProfile && (await stopProfile());
  const b = results.burst;
  const ratio = b.drain / baseline.drain;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(`\nResults (dev server on SQLite/WAL; worker in this bench process, workflow cache ${cacheSize}; ${leads} per burst, ${concurrency} in flight)`);
  console.log(`  baseline: workflows started        ${baseline.starts.perSecond.toFixed(1)}/s`);
  console.log(`  baseline: drained (all completed)  ${baseline.drain.toFixed(1)}/s  (${baseline.completed}/${leads} in ${baseline.drainSeconds.toFixed(1)} s)`);
  console.log(`  leads: added                       ${b.adds.perSecond.toFixed(1)}/s`);
  console.log(`  leads: drained (rep notified)      ${b.drain.toFixed(1)}/s  (${b.notified}/${leads} in ${b.drainSeconds.toFixed(1)} s)`);
  console.log(`  drain / baseline                   ${ratio.toFixed(2)}  (target >= ${DRAIN_TARGET}: ${verdict(ratio >= DRAIN_TARGET && b.notified === leads)})`);
  const perItem = (c: { server: number; bench: number }) => `dev server ${c.server.toFixed(1)} ms, bench process ${c.bench.toFixed(1)} ms`;
  console.log(`  CPU per baseline workflow          ${perItem(baseline.cpu)}`);
  console.log(`  CPU per lead (to its rep notice)   ${perItem(b.cpu)}  (${(b.cpu.server / baseline.cpu.server).toFixed(1)}x and ${(b.cpu.bench / baseline.cpu.bench).toFixed(1)}x the baseline's)`);
  for (const s of results.steady) {
    const target = s.rate === P99_TARGET_RATE ? `  (target p99 <= ${P99_TARGET_MS} ms: ${verdict(s.latency.p99 <= P99_TARGET_MS && s.latency.n === s.total)})` : '';
    console.log(`  steady ${`${s.rate}/s`.padEnd(6)} add -> rep notice   p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)}, max ${ms(s.latency.max)}${target}`);
    console.log(`  ${''.padEnd(34)} ${s.latency.n}/${s.total} notified; adds at ${s.achieved.toFixed(1)}/s, each took p50 ${ms(s.add.p50)}, p99 ${ms(s.add.p99)}`);
    if (s.latency.n < s.total) console.log(`  WARNING: ${s.total - s.latency.n} leads of the ${s.rate}/s phase had no rep notice ${patience} s after the last one`);
  }
  const laterMail = b.otherMail + results.steady.reduce((n, s) => n + s.otherMail, 0);
  if (laterMail) console.log(`  other team mail about bench leads   ${laterMail} (SLA reminders, escalations, queued-lead notices...), sent during the run`);
  console.log(`  bench process peak RSS              ${mib(process.resourceUsage().maxRSS * 1024)} (client, worker, mail sink and PGlite together)`);
  if (b.notified < leads) console.log(`  WARNING: ${leads - b.notified} burst leads had no rep notice ${patience} s after the last one`);
  console.log(`  machine before the start             ${loadAtStart}`);
  if (profile) console.log(`\nMain thread of the bench process, by package (profile in ${options.cpuProfile}):\n${saveProfile(profile, options.cpuProfile!).map((l) => `  ${l}`).join('\n')}`);

  await sink.close();
  await store.close();
  await embedded.close();
  await env.teardown();
  rmSync(dataDir, { recursive: true, force: true });
}

main(program.parse().opts<Options>()).catch((err) => {
  console.error(err);
  process.exit(1);
});
