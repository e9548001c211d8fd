// One run of `npm run bench` on one Temporal server: the baseline, the burst and the steady phases,
// with the CPU and the persistence each lead costs. bench/leads.ts runs it once on the dev server, or
// (--server cluster) on the dev server and on the local cluster with one worker and with two.
import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { Mailer } from '../activities/mail';
import { addLead } from '../client/leads';
import type { ReceivedMail } from '../client/mailSink';
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import type { Store } from '../store';
import { createWorker } from '../worker/worker';
import { burst, ms, processCpuMs, sleep, summary, waitForCount } from './measure';
import type { BenchActivities } from './workflows';

/** A Temporal server under the bench, and how to read what it costs. */
export interface BenchServer {
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  /** CPU used so far, in ms, by the Temporal server and by the PostgreSQL server beside it (NaN when there is none). */
  cpu(): { temporal: number; postgres: number };
  /** What the server has written to its persistence so far. */
  persistence(): Promise<Persistence>;
  /** How long its persistence counters take to catch up (PostgreSQL flushes its statistics within 10 s). */
  settleMs: number;
}

/** Cumulative figures of a server's persistence; only bytes where its database is one file (SQLite). */
export interface Persistence {
  bytes: number;
  transactions?: number;
  rowsWritten?: number;
  walBytes?: number;
}

export interface RunSettings {
  /** The label of this run's figures. */
  name: string;
  server: BenchServer;
  store: Store;
  mailer: Mailer;
  notices: NoticeTracker;
  config: Config;
  workflowBundle: WorkerOptions['workflowBundle'];
  /** Task queues are named after it, so runs on one server do not meet. */
  tag: string;
  /** Measure the baseline in this run (a run with extra workers compares with another run's). */
  baseline: boolean;
  /** Worker processes polling this run's task queue beside the bench's own worker. */
  extraWorkerPids: number[];
  leads: number;
  concurrency: number;
  rates: number[];
  seconds: number;
  patience: number;
}

interface CpuPerItem {
  temporal: number;
  postgres: number;
  /** The bench process (client, its worker, store client, SMTP sink) and any extra worker processes. */
  workers: number;
}

export interface BaselineResult {
  starts: { perSecond: number };
  completed: number;
  drainSeconds: number;
  drain: number;
  cpu: CpuPerItem;
}

export interface RunResult {
  name: string;
  leads: number;
  workers: number;
  cacheSize: number;
  baseline?: BaselineResult;
  burst: {
    adds: { perSecond: number };
    notified: number;
    drainSeconds: number;
    drain: number;
    otherMail: number;
    cpu: CpuPerItem;
    /** Per lead, from the burst's start until the counters caught up after its last notice; background work included. */
    persistence: Persistence;
    idlePerSecond: Persistence;
  };
  steady: Array<{ rate: number; total: number; achieved: number; latency: ReturnType<typeof summary>; add: ReturnType<typeof summary>; otherMail: number }>;
}

/** The rep's notice of an assignment, as opposed to reminders, escalations and other team mail. */
const isAssignmentNotice = (mail: ReceivedMail) => /\.assigned@/.test(mail.messageId ?? '') || /^New \w+ lead/.test(mail.subject);
const LEAD_ADDRESS = /bench-[a-z0-9]+-\d+@acme-\d+\.example/g;

/** When each lead's rep notice reached the SMTP sink; any other mail about a bench lead is counted apart. */
export class NoticeTracker {
  readonly notifiedAt = new Map<string, number>();
  otherMail = 0;
  readonly onMessage = (mail: ReceivedMail) => {
    const at = Date.now();
    const named = new Set(`${mail.subject}\n${mail.text}`.match(LEAD_ADDRESS) ?? []);
    for (const address of named) {
      if (mail.to.includes(address)) continue;
      if (!this.notifiedAt.has(address) && isAssignmentNotice(mail)) this.notifiedAt.set(address, at);
      else this.otherMail++;
    }
  };
}

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

/** (after - before) / n, field by field. */
const difference = (after: Persistence, before: Persistence, n: number): Persistence => {
  const field = (key: keyof Persistence) => {
    const a = after[key];
    const b = before[key];
    return a === undefined || b === undefined ? undefined : (a - b) / n;
  };
  return { bytes: field('bytes')!, transactions: field('transactions'), rowsWritten: field('rowsWritten'), walBytes: field('walBytes') };
};

/** The task queue of a run's leads: a worker process joining the run polls it. */
export const leadTaskQueue = (tag: string) => `bench-${tag}`;

export async function runLeads(settings: RunSettings): Promise<RunResult> {
  const { server, store, config, notices, leads, concurrency, rates, seconds, patience, tag } = settings;
  const { client } = server;
  const taskQueue = leadTaskQueue(tag);
  const baselineQueue = `bench-${tag}-baseline`;
  const cpu = () => {
    const own = process.cpuUsage();
    const extra = settings.extraWorkerPids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
    return { ...server.cpu(), workers: (own.user + own.system) / 1000 + extra };
  };
  const cpuPer = (before: ReturnType<typeof cpu>, n: number): CpuPerItem => {
    const after = cpu();
    return { temporal: (after.temporal - before.temporal) / n, postgres: (after.postgres - before.postgres) / n, workers: (after.workers - before.workers) / n };
  };

  // 1. Baseline: a worker with the SDK's defaults, as createWorker makes it, and one no-op activity.
  let baseline: BaselineResult | undefined;
  if (settings.baseline) {
    let noopsRun = 0;
    const baselineActivities: Pick<BenchActivities, 'benchNoop'> = {
      benchNoop: async () => {
        noopsRun++;
      },
    };
    const baselineWorker = await Worker.create({
      connection: server.nativeConnection,
      namespace: server.namespace,
      taskQueue: baselineQueue,
      workflowBundle: settings.workflowBundle,
      activities: baselineActivities,
    });
    console.log(`\n[${settings.name}] 1. Baseline: ${leads} workflows of one no-op activity, ${concurrency} starts in flight, until all complete`);
    baseline = await baselineWorker.runUntil(async () => {
      const startedAt = Date.now();
      const cpuAtStart = cpu();
      const starts = await burst('baseline started', leads, concurrency, (i) =>
        client.workflow.start('benchOneActivity', { workflowId: `baseline-${tag}-${i}`, taskQueue: baselineQueue }),
      );
      await waitForCount('baseline activities run', leads, () => noopsRun, patience * 1000);
      const completedQuery = `WorkflowType = "benchOneActivity" AND ExecutionStatus = "Completed" AND TaskQueue = "${baselineQueue}"`;
      const completed = await waitForCount('baseline completed', leads, async () => (await client.workflow.count(completedQuery)).count, patience * 1000, 250);
      let lastClose = 0;
      for await (const wf of client.workflow.list({ query: completedQuery })) lastClose = Math.max(lastClose, wf.closeTime?.getTime() ?? 0);
      const drainSeconds = (lastClose - startedAt) / 1000;
      return { starts, completed, drainSeconds, drain: completed / drainSeconds, cpu: cpuPer(cpuAtStart, leads) };
    });
  }

  const worker = await createWorker({
    connection: server.nativeConnection,
    namespace: server.namespace,
    taskQueue,
    client,
    mailer: settings.mailer,
    store,
    workflowBundle: settings.workflowBundle,
  });
  const add = (l: Lead) => addLead(client, store, taskQueue, config, l);

  const results = await worker.runUntil(async () => {
    // What the server writes with no lead coming in (shard and queue bookkeeping, cleaning up after
    // the baseline), once its counters have caught up: printed beside the burst's figures, which
    // include it. It swings too much between runs to be taken off.
    await sleep(server.settleMs);
    const idleStart = await server.persistence();
    const idleSeconds = Math.max(server.settleMs, 5000) / 1000;
    await sleep(idleSeconds * 1000);
    const before = await server.persistence();
    const idle = difference(before, idleStart, idleSeconds);

    // 2. The same number of leads, until every rep's notice has reached the SMTP sink.
    console.log(`\n[${settings.name}] 2. Burst: ${leads} leads, ${concurrency} adds in flight, until every rep notice reached the SMTP sink`);
    const burstLeads: string[] = [];
    const startedAt = Date.now();
    const cpuAtStart = cpu();
    const mailBefore = notices.otherMail;
    const adds = await burst('leads added', leads, concurrency, async () => {
      const l = lead(`${tag}burst`);
      burstLeads.push(l.email);
      await add(l);
    });
    const notified = await waitForCount('rep notices at the sink', leads, () => burstLeads.filter((e) => notices.notifiedAt.has(e)).length, patience * 1000);
    const lastNotice = Math.max(...burstLeads.map((e) => notices.notifiedAt.get(e) ?? 0));
    const drainSeconds = (lastNotice - startedAt) / 1000;
    const burstCpu = cpuPer(cpuAtStart, leads);
    await sleep(server.settleMs);
    const after = await server.persistence();
    const persistence = difference(after, before, leads);
    const burstResult = { adds, notified, drainSeconds, drain: notified / drainSeconds, otherMail: notices.otherMail - mailBefore, cpu: burstCpu, persistence, idlePerSecond: idle };

    // 3. Steady phases, each after the previous one's journeys have all reached their reps.
    const steady: RunResult['steady'] = [];
    for (const rate of rates) {
      console.log(`\n[${settings.name}] 3. Steady: ${rate} leads/s for ${seconds} s, time from add to the rep's notice at the SMTP sink`);
      const total = Math.round(rate * seconds);
      const addedAt = new Map<string, number>();
      const addTook: number[] = [];
      const bar = waitForCount('leads added', total, () => addTook.length, Number.MAX_SAFE_INTEGER, 250);
      const otherBefore = notices.otherMail;
      const phaseStart = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        // Each add is due at its own slot, so a slow add never pushes the schedule back.
        const wait = phaseStart + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        const l = lead(`${tag}steady${rate}`);
        const t = Date.now();
        addedAt.set(l.email, t);
        pending.push(add(l).then(() => addTook.push(Date.now() - t)));
      }
      await Promise.all(pending);
      const achieved = total / ((performance.now() - phaseStart) / 1000);
      await bar;
      const emails = [...addedAt.keys()];
      await waitForCount('rep notices at the sink', total, () => emails.filter((e) => notices.notifiedAt.has(e)).length, patience * 1000);
      const latencies = emails.filter((e) => notices.notifiedAt.has(e)).map((e) => notices.notifiedAt.get(e)! - addedAt.get(e)!);
      steady.push({ rate, total, achieved, latency: summary(latencies), add: summary(addTook), otherMail: notices.otherMail - otherBefore });
    }
    return { burst: burstResult, steady };
  });
  return { name: settings.name, leads, workers: 1 + settings.extraWorkerPids.length, cacheSize: worker.options.maxCachedWorkflows, baseline, ...results };
}

export const DRAIN_TARGET = 0.7;
export const P99_TARGET_MS = 500;
export const P99_TARGET_RATE = 20;

/** The figures of one run; `baseline` is the run's own, or another run's on the same server. */
export function printRun(run: RunResult, baseline: BaselineResult, serverLabel: string, patience: number): void {
  const b = run.burst;
  const ratio = b.drain / baseline.drain;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const own = run.baseline === baseline;
  console.log(`\nResults: ${run.name} (${serverLabel}; ${run.workers === 1 ? 'worker in this bench process' : `the bench's worker and ${run.workers - 1} worker process(es)`}, workflow cache ${run.cacheSize}; ${run.leads} per burst)`);
  console.log(`  baseline: workflows started        ${baseline.starts.perSecond.toFixed(1)}/s${own ? '' : '  (measured in the one-worker run)'}`);
  console.log(`  baseline: drained (all completed)  ${baseline.drain.toFixed(1)}/s  (${baseline.completed} in ${baseline.drainSeconds.toFixed(1)} s)`);
  console.log(`  leads: added                       ${b.adds.perSecond.toFixed(1)}/s`);
  console.log(`  leads: drained (rep notified)      ${b.drain.toFixed(1)}/s  (${b.notified} in ${b.drainSeconds.toFixed(1)} s)`);
  console.log(`  drain / baseline                   ${ratio.toFixed(2)}  (target >= ${DRAIN_TARGET}: ${verdict(ratio >= DRAIN_TARGET)})`);
  const perItem = (c: CpuPerItem) => `Temporal server ${c.temporal.toFixed(1)} ms${Number.isFinite(c.postgres) ? `, PostgreSQL ${c.postgres.toFixed(1)} ms` : ''}, workers ${c.workers.toFixed(1)} ms`;
  console.log(`  CPU per baseline workflow          ${perItem(baseline.cpu)}`);
  console.log(`  CPU per lead (to its rep notice)   ${perItem(b.cpu)}`);
  console.log(`  persistence per lead               ${describePersistence(b.persistence)}`);
  console.log(`  the server with no leads coming in ${describePersistence(b.idlePerSecond)} a second (included above)`);
  for (const s of run.steady) {
    const target = s.rate === P99_TARGET_RATE ? `  (target p99 <= ${P99_TARGET_MS} ms: ${verdict(s.latency.p99 <= P99_TARGET_MS && s.latency.n === s.total)})` : '';
    console.log(`  steady ${`${s.rate}/s`.padEnd(6)} add -> rep notice   p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)}, max ${ms(s.latency.max)}${target}`);
    console.log(`  ${''.padEnd(34)} ${s.latency.n}/${s.total} notified; adds at ${s.achieved.toFixed(1)}/s, each took p50 ${ms(s.add.p50)}, p99 ${ms(s.add.p99)}`);
    if (s.latency.n < s.total) console.log(`  WARNING: ${s.total - s.latency.n} leads of the ${s.rate}/s phase had no rep notice ${patience} s after the last one`);
  }
  if (b.notified < run.leads) console.log(`  WARNING: ${run.leads - b.notified} burst leads had no rep notice ${patience} s after the last one`);
  const laterMail = b.otherMail + run.steady.reduce((n, s) => n + s.otherMail, 0);
  if (laterMail) console.log(`  other team mail about bench leads   ${laterMail} (SLA reminders, escalations, queued-lead notices...), sent during the run`);
}

export function describePersistence(p: Persistence): string {
  const kib = (v: number) => `${(v / 1024).toFixed(1)} KiB`;
  const parts = [`${kib(p.bytes)} on disk`];
  if (p.transactions !== undefined) parts.push(`${p.transactions.toFixed(1)} transactions`);
  if (p.rowsWritten !== undefined) parts.push(`${p.rowsWritten.toFixed(1)} rows written`);
  if (p.walBytes !== undefined) parts.push(`${kib(p.walBytes)} of WAL`);
  return parts.join(', ');
}
