// Records the histories the replay test checks every change against: `npm run record-histories`.
// Re-record only for a change that is guarded by patched(); the old files must keep replaying.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { addLead } from '../../client/leads';
import { packageRoot } from '../../client/paths';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startMailSink, type MailSink } from '../../client/mailSink';
import { journeyStateQuery, type JourneyState } from '../../workflows/messages';
import { exampleConfig, fittingLead, nurtureLead } from '../support/fixtures';
import { bundleWorkflows, testWorker, timeSkippingEnv } from '../support/temporal';

const DAY = 86_400_000;

async function main(): Promise<void> {
  const [env, sink, bundle] = await Promise.all([timeSkippingEnv(), startMailSink(), bundleWorkflows()]);
  try {
    await record(env, sink, bundle);
  } finally {
    // Without this a failed recording leaves the test server's JVM running.
    await sink.close();
    await env.teardown();
  }
}

async function record(env: TestWorkflowEnvironment, sink: MailSink, bundle: WorkflowBundleWithSourceMap): Promise<void> {
  const worker = await testWorker(env, bundle, sink, 'record');
  const config = exampleConfig();
  const folder = join(packageRoot(), 'test', 'replay', 'histories');
  mkdirSync(folder, { recursive: true });
  const start = async (lead: Parameters<typeof addLead>[3]) =>
    env.client.workflow.getHandle((await addLead(env.client, 'record', config, lead)).leadId);
  const until = async (handle: Awaited<ReturnType<typeof start>>, ok: (s: JourneyState) => boolean) => {
    while (!ok(await handle.query(journeyStateQuery))) await new Promise((r) => setTimeout(r, 50));
  };

  await worker.runUntil(async () => {
    const scenarios: Record<string, Awaited<ReturnType<typeof start>>> = {};

    // A nurture cadence sent to the end: day 0, 3 and 7.
    scenarios['nurture-complete'] = await start(nurtureLead({ email: 'nurture@replay.example' }));
    await env.sleep(8 * DAY);
    await scenarios['nurture-complete'].result();

    // An inbound lead whose SDR misses the SLA; the manager is told; the lead later unsubscribes.
    scenarios['sla-breached-then-unsubscribed'] = await start(fittingLead({ email: 'breach@replay.example' }));
    await until(scenarios['sla-breached-then-unsubscribed'], (s) => s.sla !== undefined);
    await env.sleep(6 * 60_000);
    await until(scenarios['sla-breached-then-unsubscribed'], (s) => s.sla?.escalatedTo !== undefined);
    await scenarios['sla-breached-then-unsubscribed'].signal('unsubscribed');
    await scenarios['sla-breached-then-unsubscribed'].result();

    // A nurtured lead that replies, goes to an SDR and is touched in time, then unsubscribes.
    scenarios['replied-touched-unsubscribed'] = await start(nurtureLead({ email: 'reply@replay.example' }));
    await until(scenarios['replied-touched-unsubscribed'], (s) => s.touches.length === 1);
    await env.sleep(DAY);
    await scenarios['replied-touched-unsubscribed'].signal('replied');
    await until(scenarios['replied-touched-unsubscribed'], (s) => s.sla !== undefined);
    await scenarios['replied-touched-unsubscribed'].signal('touched');
    await until(scenarios['replied-touched-unsubscribed'], (s) => s.sla?.status === 'met');
    await scenarios['replied-touched-unsubscribed'].signal('unsubscribed');
    await scenarios['replied-touched-unsubscribed'].result();

    for (const [name, handle] of Object.entries(scenarios)) {
      writeFileSync(join(folder, `leadJourney-${name}.json`), historyToJSON(await handle.fetchHistory()));
    }
    const rotation = env.client.workflow.getHandle('rep-rotation-sdr');
    writeFileSync(join(folder, 'repRotation-sdr.json'), historyToJSON(await rotation.fetchHistory()));
    console.log(`recorded ${Object.keys(scenarios).length + 1} histories in ${folder}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
