// `npm run bench:import`: how fast `lead import` turns a CSV list into journeys, on the Temporal dev
// server and the embedded store, beside a baseline measured in the same run on the same server: as
// many bare `client.workflow.start` calls of a trivial workflow, with the same concurrency. An import
// does more per row (parse and validate the row, look up its suppression, record the contact, start
// the journey with its config), so the ratio says what that costs over the start itself.
//
// No worker runs: the import's work ends when Temporal has accepted the start, and a worker running
// the journeys meanwhile would measure the journeys, not the import (on 2 cores, they would take the
// CPU the import needs). The baseline's workflows likewise wait for a worker that never comes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { applyConfigFile } from '../client/configVersions';
import { DEFAULT_CONCURRENCY, importLeads, type ImportSummary } from '../client/leadImport';
import { packageRoot } from '../client/paths';
import { startDevServer } from '../client/servers';
import { openStore } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import { burst, findServerPid, machineLoad, mib, onInterrupt, positiveInt, processCpuMs, progress, SERVER_LOG, waitForCount } from './measure';

const program = new Command('npm run bench:import --')
  .description('Benchmark `lead import` on a fresh Temporal dev server (SQLite in WAL mode) and the embedded store (PGlite), beside bare workflow starts.')
  .option('--rows <n>', 'rows in the generated list, and as many baseline starts', positiveInt, 10_000)
  .option('--concurrency <n>', 'rows (and baseline starts) in flight at once', positiveInt, DEFAULT_CONCURRENCY)
  .addOption(new Option('--config <file>', 'the config file the journeys follow').default(join(packageRoot(), 'config', 'examples', 'default.yaml'), 'config/examples/default.yaml'))
  .addHelpText(
    'after',
    `
What it prints:
  1. baseline: N bare client.workflow.start calls of a trivial workflow, --concurrency in flight;
  2. a dry run of the N-row list (each row validated, its suppression and journey looked up);
  3. the import of the list (each row validated, its suppression looked up, its contact recorded,
     its journey started), and the ratio of its rows/s to the baseline's starts/s;
  4. the same import again: every row already running, nothing started.
No worker runs during any of them. Run one bench at a time, on an otherwise idle machine.`,
  );

interface Options {
  rows: number;
  concurrency: number;
  config: string;
}

/** A list as a CRM exports it: spreadsheet headers, a head count with a thousands separator now and then. */
function writeList(file: string, rows: number): void {
  const lines = ['E-mail,First Name,Last Name,Company,Job Title,Industry,Region,Employees,Source,Country'];
  const industries = ['manufacturing', 'software', 'logistics', 'retail'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`bench-import-${i}@acme-${i}.example,Bench,Lead ${i},"Acme ${i}, Inc.",Head of Operations,${industries[i % industries.length]},kr,"${i % 10 === 0 ? '1,200' : 50 + (i % 400)}",inbound,KR`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function main(options: Options): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { rows, concurrency } = options;
  const loadAtStart = await machineLoad();
  console.log(`Machine: ${loadAtStart}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-import-'));
  const env = await startDevServer({ dbFilename: join(dataDir, 'temporal.sqlite'), log: SERVER_LOG }, console.error);
  const serverPid = findServerPid(join(dataDir, 'temporal.sqlite'));
  const embedded = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), port: 0 });
  const store = await openStore(embedded.url);
  onInterrupt(async () => {
    await store.close();
    await embedded.close();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });
  // As `lead import` does: the journeys follow the active config version.
  const { config, version } = await applyConfigFile(store, options.config, 'bench:import');
  const file = join(dataDir, 'leads.csv');
  writeList(file, rows);

  /** CPU used by the dev server and by this process (client, store, PGlite) per row of a phase, in ms. */
  const cpu = () => ({ server: serverPid ? processCpuMs(serverPid) : NaN, bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
  const measure = async <T>(work: () => Promise<T>) => {
    const before = cpu();
    const started = performance.now();
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    const after = cpu();
    return { result, seconds, perSecond: rows / seconds, cpu: { server: (after.server - before.server) / rows, bench: (after.bench - before.bench) / rows } };
  };
  const importPhase = (label: string, dryRun: boolean) =>
    measure(async () => {
      const bar = progress(label, rows);
      try {
        const common = { client: env.client, store, taskQueue: 'bench-import', file, concurrency, onProgress: (p: { done: number }) => bar.update(p.done) };
        return dryRun ? await importLeads({ ...common, dryRun: true }) : await importLeads({ ...common, config, configVersion: version });
      } finally {
        bar.stop();
      }
    });

  console.log(`\n1. Baseline: ${rows} bare workflow starts, ${concurrency} in flight`);
  const baseline = await measure(() =>
    burst('baseline started', rows, concurrency, (i) => env.client.workflow.start('benchOneActivity', { workflowId: `baseline-${i}`, taskQueue: 'bench-baseline' })),
  );
  console.log(`\n2. Dry run of the ${rows}-row list`);
  const dry = await importPhase('rows checked', true);
  console.log(`\n3. Import of the ${rows}-row list`);
  const first = await importPhase('rows imported', false);
  console.log('\n4. The same import again');
  const again = await importPhase('rows imported again', false);
  const visible = await waitForCount('journeys visible', rows, async () => (await env.client.workflow.count('WorkflowType = "leadJourney"')).count, 30_000, 500);

  const line = (s: ImportSummary) => `started ${s.started}, already running ${s.alreadyRunning}, suppressed ${s.suppressed}, rejected ${s.rejected}`;
  const perRow = (c: { server: number; bench: number }) => `dev server ${c.server.toFixed(2)} ms, bench process ${c.bench.toFixed(2)} ms`;
  console.log(`\nResults (dev server on SQLite/WAL, store on PGlite in this process, no worker; ${rows} rows, ${concurrency} in flight)`);
  console.log(`  baseline: bare workflow starts      ${baseline.perSecond.toFixed(1)}/s  (${baseline.seconds.toFixed(1)} s)`);
  console.log(`  dry run                             ${dry.perSecond.toFixed(1)} rows/s  (${dry.seconds.toFixed(1)} s; would have ${line(dry.result)})`);
  console.log(`  import                              ${first.perSecond.toFixed(1)} rows/s  (${first.seconds.toFixed(1)} s; ${line(first.result)})`);
  console.log(`  import / baseline                   ${(first.perSecond / baseline.perSecond).toFixed(2)}`);
  console.log(`  same import again                   ${again.perSecond.toFixed(1)} rows/s  (${again.seconds.toFixed(1)} s; ${line(again.result)})`);
  console.log(`  CPU per baseline start              ${perRow(baseline.cpu)}`);
  console.log(`  CPU per imported row                ${perRow(first.cpu)}`);
  console.log(`  lead journeys visible               ${visible}/${rows}`);
  console.log(`  bench process peak RSS              ${mib(process.resourceUsage().maxRSS * 1024)} (client and PGlite together)`);
  console.log(`  machine before the start            ${loadAtStart}`);
  if (first.result.started !== rows || again.result.alreadyRunning !== rows) console.log('  WARNING: the import did not start every row exactly once');

  await store.close();
  await embedded.close();
  await env.teardown();
  rmSync(dataDir, { recursive: true, force: true });
}

main(program.parse().opts<Options>()).catch((err) => {
  console.error(err);
  process.exit(1);
});
