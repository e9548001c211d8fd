// Records the histories the replay test checks every change against: `npm run record-histories`.
// It writes the current versions' shapes (leadJourney-v3-*.json, accountProgram-v1-*.json) and never
// touches the files of earlier versions: journeys of those shapes may still be running somewhere.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { addAccount } from '../../client/accounts';
import { addLead } from '../../client/leads';
import { packageRoot } from '../../client/paths';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startMailSink, type MailSink } from '../../client/mailSink';
import type { Lead } from '../../config/lead';
import { journeyStateQuery, type JourneyState } from '../../workflows/messages';
import { exampleConfig, fittingLead, nurtureLead } from '../support/fixtures';
import { embeddedTestStore, type TestStore } from '../support/store';
import { bundleWorkflows, testWorker, timeSkippingEnv } from '../support/temporal';

const DAY = 86_400_000;

async function main(): Promise<void> {
  const [env, sink, db, bundle] = await Promise.all([
    timeSkippingEnv(),
    startMailSink({ rejectRecipient: (to) => (to.startsWith('bounce@') ? '550 5.1.1 no such user here' : undefined) }),
    embeddedTestStore(),
    bundleWorkflows(),
  ]);
  try {
    await record(env, sink, db, bundle);
  } finally {
    // Without this a failed recording leaves the test server's JVM running.
    await sink.close();
    await db.close();
    await env.teardown();
  }
}

async function record(env: TestWorkflowEnvironment, sink: MailSink, db: TestStore, bundle: WorkflowBundleWithSourceMap): Promise<void> {
  const worker = await testWorker(env, bundle, sink, db.store, 'record');
  const config = exampleConfig();
  const folder = join(packageRoot(), 'test', 'replay', 'histories');
  mkdirSync(folder, { recursive: true });
  const start = async (lead: Lead) => env.client.workflow.getHandle((await addLead(env.client, db.store, 'record', config, lead)).leadId);
  const until = async (handle: Awaited<ReturnType<typeof start>>, ok: (s: JourneyState) => boolean) => {
    while (!ok(await handle.query(journeyStateQuery))) await new Promise((r) => setTimeout(r, 50));
  };

  await worker.runUntil(async () => {
    const scenarios: Record<string, Awaited<ReturnType<typeof start>>> = {};

    // A nurture cadence sent to the end (day 0, 3 and 7), then 30 days without a reply.
    scenarios['nurture-no-reply'] = await start(nurtureLead({ email: 'nurture@replay.example' }));
    await env.sleep(40 * DAY);
    await scenarios['nurture-no-reply'].result();

    // An inbound lead whose SDR misses the SLA; the manager is told; the lead later unsubscribes.
    scenarios['sla-breached-then-unsubscribed'] = await start(fittingLead({ email: 'breach@replay.example' }));
    await until(scenarios['sla-breached-then-unsubscribed'], (s) => s.notice?.status === 'sent');
    await env.sleep(6 * 60_000);
    await until(scenarios['sla-breached-then-unsubscribed'], (s) => s.sla?.escalatedTo !== undefined);
    await scenarios['sla-breached-then-unsubscribed'].signal('unsubscribed');
    await scenarios['sla-breached-then-unsubscribed'].result();

    // A nurtured lead that replies after the cadence, goes to an SDR, is touched in time, and goes quiet.
    scenarios['replied-touched-inactive'] = await start(nurtureLead({ email: 'reply@replay.example' }));
    await env.sleep(10 * DAY);
    await until(scenarios['replied-touched-inactive'], (s) => s.stage === 'awaiting-reply');
    await scenarios['replied-touched-inactive'].signal('replied');
    await until(scenarios['replied-touched-inactive'], (s) => s.sla !== undefined && s.notice?.status === 'sent');
    await scenarios['replied-touched-inactive'].signal('touched');
    await until(scenarios['replied-touched-inactive'], (s) => s.sla?.status === 'met');
    await env.sleep(100 * DAY);
    await scenarios['replied-touched-inactive'].result();

    // A nurture e-mail refused for good: the cadence ends as bounced.
    scenarios['bounced'] = await start(nurtureLead({ email: 'bounce@replay.example' }));
    await scenarios['bounced'].result();

    // Out of office for a week after the first nurture e-mail, then back: the cadence picks up where it stopped.
    scenarios['paused-resumed'] = await start(nurtureLead({ email: 'pause@replay.example' }));
    await env.sleep(DAY);
    await scenarios['paused-resumed'].signal('paused', { until: new Date((await env.currentTimeMs()) + 7 * DAY).toISOString() });
    await env.sleep(3 * DAY);
    await scenarios['paused-resumed'].signal('resumed');
    await scenarios['paused-resumed'].result();

    // A tier-C account whose second contact replies: the program stops for both and goes to its BDR.
    const bdr = config.team.find((m) => m.role === 'bdr')!.email;
    const contacts = ['ana', 'ben'].map((name) => ({ email: `${name}@account.replay.example`, firstName: name }));
    const { programId } = await addAccount(env.client, db.store, 'record', config, { name: 'Replay Co', domain: 'account.replay.example', tier: 'C', owner: bdr, contacts });
    const program = env.client.workflow.getHandle(programId);
    await env.sleep(10 * DAY);
    await program.signal('contactEvent', { contact: contacts[1]!.email, type: 'replied' });
    await program.result();

    for (const [name, handle] of Object.entries(scenarios)) {
      writeFileSync(join(folder, `leadJourney-v3-${name}.json`), historyToJSON(await handle.fetchHistory()));
    }
    writeFileSync(join(folder, 'accountProgram-v1-tier-c-replied.json'), historyToJSON(await program.fetchHistory()));
    console.log(`recorded ${Object.keys(scenarios).length + 1} histories in ${folder}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
