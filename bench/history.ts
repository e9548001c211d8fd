// `npm run bench:history`: how many history events a journey writes, on the time-skipping test
// server at real durations: the example nurture cadence to its end, a lead worked by its rep until it
// goes quiet, and a journey that receives 10,000 events (it continues as new to keep each run short).
import { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { addLead } from '../client/leads';
import { startMailSink } from '../client/mailSink';
import { journeyStateQuery, MAX_HISTORY_EVENTS, type JourneyState } from '../workflows/messages';
import { exampleConfig, fittingLead, nurtureLead } from '../test/support/fixtures';
import { embeddedTestStore } from '../test/support/store';
import { bundleWorkflows, testWorker, timeSkippingEnv } from '../test/support/temporal';

const options = new Command('npm run bench:history --')
  .description('count the history events of journeys, per run, on the time-skipping test server')
  .option('--events <n>', 'events sent to the busy journey', Number, 10_000)
  .parse()
  .opts<{ events: number }>();

const DAY = 86_400_000;
const taskQueue = 'bench-history';

/** Events of every run of a journey, following continue-as-new from the first run. */
async function runsOf(env: TestWorkflowEnvironment, workflowId: string, firstRunId: string): Promise<number[]> {
  const runs: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    runs.push(events.length);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

async function main(): Promise<void> {
  const [env, sink, db, bundle] = await Promise.all([timeSkippingEnv(), startMailSink(), embeddedTestStore(), bundleWorkflows()]);
  const config = exampleConfig();
  const worker = await testWorker(env, bundle, sink, db.store, taskQueue);
  const start = async (lead: Parameters<typeof addLead>[4]) => {
    const { leadId } = await addLead(env.client, db.store, taskQueue, config, lead);
    const handle = env.client.workflow.getHandle(leadId);
    return { handle, firstRunId: (await handle.describe()).runId };
  };
  const until = async (handle: Awaited<ReturnType<typeof start>>['handle'], ok: (s: JourneyState) => boolean) => {
    while (!ok(await handle.query(journeyStateQuery))) await new Promise((r) => setTimeout(r, 50));
  };
  const report = (what: string, runs: number[]) =>
    console.log(`${what.padEnd(58)} ${String(runs.reduce((a, b) => a + b, 0)).padStart(7)} events in ${runs.length} run(s), longest run ${Math.max(...runs)}`);

  try {
    await worker.runUntil(async () => {
      const nurtured = await start(nurtureLead());
      await env.sleep(40 * DAY);
      await nurtured.handle.result();
      report('nurture cadence (3 e-mails), 30 days without a reply', await runsOf(env, nurtured.handle.workflowId, nurtured.firstRunId));

      const worked = await start(fittingLead());
      await until(worked.handle, (s) => s.notice?.status === 'sent');
      await worked.handle.signal('touched');
      await env.sleep(100 * DAY);
      await worked.handle.result();
      report('inbound lead: notice, touched in time, quiet for 90 days', await runsOf(env, worked.handle.workflowId, worked.firstRunId));

      const busy = await start(fittingLead());
      await until(busy.handle, (s) => s.notice?.status === 'sent');
      const stored = async () => (await db.store.events({ journeyId: busy.handle.workflowId, types: ['touched'] })).length;
      const started = performance.now();
      for (let sent = 0; sent < options.events; ) {
        const batch = Math.min(100, options.events - sent);
        await Promise.all(Array.from({ length: batch }, () => busy.handle.signal('touched')));
        sent += batch;
        // A CRM syncing a lead's history waits for each batch to land. A flood that never pauses keeps
        // Temporal from continuing the run as new: it refuses while signals are waiting (README).
        while ((await stored()) < sent) await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (performance.now() - started) / 1000;
      await busy.handle.signal('closed');
      await busy.handle.result();
      const runs = await runsOf(env, busy.handle.workflowId, busy.firstRunId);
      report(`inbound lead that receives ${options.events.toLocaleString('en')} events, then closed`, runs);
      console.log(`  ${(await stored()).toLocaleString('en')} touched events in the store; events delivered at ${(options.events / seconds).toFixed(0)}/s; a run continues as new past ${MAX_HISTORY_EVENTS} events`);
    });
  } finally {
    await sink.close();
    await db.close();
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
