// `npm run bench`: how fast leads enter Pipewright and how soon their SDR hears of them, on the
// Temporal dev server. Figures are printed beside a baseline measured in the same run (starting
// empty workflows on the same server), so a busier or slower machine shifts both alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { addLead } from '../client/leads';
import { startMailSink } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import { startDevServer } from '../client/servers';
import { loadConfig } from '../config/load';
import type { Lead } from '../config/lead';
import { openStore } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import { createWorker } from '../worker/worker';

const options = new Command('npm run bench --')
  .description('benchmark lead intake and time to SDR notification on the Temporal dev server')
  .option('--leads <n>', 'leads (and empty workflows) to start as fast as possible', Number, 500)
  .option('--concurrency <n>', 'starts in flight at once', Number, 32)
  .option('--rate <n>', 'leads per second in the steady phase', Number, 20)
  .option('--seconds <n>', 'length of the steady phase', Number, 30)
  .parse()
  .opts<{ leads: number; concurrency: number; rate: number; seconds: number }>();

const taskQueue = 'bench';
let serial = 0;
const lead = (phase: string): Lead => ({
  email: `bench-${phase}-${++serial}@acme-${serial}.example`,
  firstName: 'Bench',
  company: `Acme ${serial}`,
  industry: 'software',
  region: 'kr',
  employees: 50,
  source: 'inbound',
});

function progress(label: string, total: number): SingleBar {
  const bar = new SingleBar({ format: `${label.padEnd(22)} [{bar}] {value}/{total} {eta_formatted} left`, noTTYOutput: true, notTTYSchedule: 5000 }, Presets.shades_classic);
  bar.start(total, 0);
  return bar;
}

/** Runs `task` n times with at most `concurrency` in flight; returns calls per second. */
async function burst(label: string, n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const bar = progress(label, n);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        await task(i);
        bar.increment();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  bar.stop();
  return n / seconds;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig(join(packageRoot(), 'config', 'examples', 'default.yaml'));
  const dataDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-'));
  // The same storage `pipewright dev` uses: a SQLite file in WAL mode.
  const env = await startDevServer({ dbFilename: join(dataDir, 'temporal.sqlite') }, console.error);
  const notifiedAt = new Map<string, number>();
  const sink = await startMailSink({
    onMessage: (mail) => {
      const match = /E-mail: +(\S+)/.exec(mail.text);
      if (mail.subject.startsWith('New inbound lead') && match) notifiedAt.set(match[1]!, performance.now());
    },
  });
  // The store `pipewright dev` runs: PGlite behind a local port.
  const embedded = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), port: 0 });
  const store = await openStore(embedded.url);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    client: env.client,
    mailer: sink.mailer({ pooled: true }),
    store,
    workflowBundle,
  });

  await worker.runUntil(async () => {
    const { leads, concurrency, rate, seconds } = options;
    console.log(`\n1. Intake: ${leads} leads and ${leads} empty workflows, ${concurrency} starts in flight`);
    const noopRate = await burst('empty workflows', leads, concurrency, (i) =>
      env.client.workflow.start('noop', { workflowId: `noop-${i}`, taskQueue }),
    );
    const burstLeads: string[] = [];
    const leadRate = await burst('leads', leads, concurrency, async () => {
      const l = lead('burst');
      burstLeads.push(l.email);
      await addLead(env.client, store, taskQueue, config, l);
    });
    // Let the burst's journeys reach their SDRs first, so the steady phase measures itself alone.
    const drained = progress('burst SDRs notified', leads);
    const drainStart = performance.now();
    while (burstLeads.some((e) => !notifiedAt.has(e)) && performance.now() - drainStart < 300_000) {
      drained.update(burstLeads.filter((e) => notifiedAt.has(e)).length);
      await new Promise((r) => setTimeout(r, 200));
    }
    drained.update(burstLeads.filter((e) => notifiedAt.has(e)).length);
    drained.stop();
    const drainSeconds = (performance.now() - drainStart) / 1000;

    console.log(`\n2. Steady: ${rate} leads/s for ${seconds} s, time from add to the SDR's e-mail at the SMTP server`);
    const total = rate * seconds;
    const addedAt = new Map<string, number>();
    const bar = progress('leads added', total);
    const startedAt = performance.now();
    const adds: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      // Each add is due at its own slot, so a slow add never pushes the schedule back.
      const due = startedAt + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const l = lead('steady');
      addedAt.set(l.email, performance.now());
      adds.push(addLead(env.client, store, taskQueue, config, l).then(() => bar.increment()));
    }
    await Promise.all(adds);
    bar.stop();
    const achieved = total / ((performance.now() - startedAt) / 1000);
    const waitUntil = performance.now() + 60_000;
    while ([...addedAt.keys()].some((e) => !notifiedAt.has(e)) && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
    const latencies = [...addedAt].filter(([e]) => notifiedAt.has(e)).map(([e, t]) => notifiedAt.get(e)! - t).sort((a, b) => a - b);

    console.log('\nResults');
    console.log(`  empty workflows started     ${noopRate.toFixed(1)}/s   (baseline: the server alone)`);
    console.log(`  leads added                 ${leadRate.toFixed(1)}/s`);
    console.log(`  leads / baseline            ${(leadRate / noopRate).toFixed(2)}`);
    console.log(`  burst fully routed after     ${drainSeconds.toFixed(1)} s more (${(leads / drainSeconds).toFixed(1)} leads/s to an SDR's inbox)`);
    console.log(`  steady phase achieved       ${achieved.toFixed(1)} leads/s (asked ${rate}/s)`);
    console.log(`  SDR notified, p50           ${percentile(latencies, 50).toFixed(0)} ms   (${latencies.length}/${total} notified)`);
    console.log(`  SDR notified, p99           ${percentile(latencies, 99).toFixed(0)} ms`);
    console.log(`  SDR notified, max           ${latencies[latencies.length - 1]!.toFixed(0)} ms`);
    console.log(`  bench process peak RSS      ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (client, worker and mail sink)`);
    if (latencies.length < total) console.log(`  WARNING: ${total - latencies.length} leads had no notification within 60 s`);
  });
  await sink.close();
  await store.close();
  await embedded.close();
  await env.teardown();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
