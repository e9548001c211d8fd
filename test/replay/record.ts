// Records the histories the replay test checks every change against: `npm run record-histories`.
// It writes the current versions' shapes (leadJourney-v5-*.json, accountProgram-v1-*.json) and never
// touches the files of earlier versions: journeys of those shapes may still be running somewhere.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { LINK_SECRETS_ENV, newLinkSecret } from '../../activities/signedLinks';
import { addAccount } from '../../client/accounts';
import { addLead } from '../../client/leads';
import { packageRoot } from '../../client/paths';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startMailSink, type MailSink } from '../../client/mailSink';
import { untilSettled } from '../../client/settle';
import type { Lead } from '../../config/lead';
import { JOURNEY_VERSION, journeyStateQuery, type JourneyState } from '../../workflows/messages';
import { exampleConfig, fittingLead, nurtureLead } from '../support/fixtures';
import { embeddedTestStore, type TestStore } from '../support/store';
import { bundleWorkflows, testWorker, timeSkippingEnv } from '../support/temporal';

const DAY = 86_400_000;

/** A recorded history is never overwritten: journeys of its shape may be running somewhere. */
function keep(file: string, history: string): void {
  if (existsSync(file)) return void console.log(`kept ${file} (recorded before; never re-recorded)`);
  writeFileSync(file, history);
  console.log(`recorded ${file}`);
}

async function main(): Promise<void> {
  // The worker signs unsubscribe links; a recording's key signs nothing anyone keeps.
  process.env[LINK_SECRETS_ENV] ??= newLinkSecret('record');
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
  const firstTouch = (s: JourneyState) => s.slas.find((c) => c.kind === 'first-touch');
  /** Moves the clock once the journey has finished its workflow task (see client/settle.ts). */
  const skip = async (handle: Awaited<ReturnType<typeof start>>, ms: number) => {
    await untilSettled(handle);
    await env.sleep(ms);
  };

  // `npm run record-histories -- NAME...` records only those scenarios; each is written as soon as it ends.
  const only = process.argv.slice(2);
  const wanted = (name: string) => {
    if (only.length > 0 && !only.includes(name)) return false;
    console.log(`recording ${name}`);
    return true;
  };
  const save = async (name: string, handle: Awaited<ReturnType<typeof start>>) =>
    keep(join(folder, `leadJourney-v${JOURNEY_VERSION}-${name}.json`), historyToJSON(await handle.fetchHistory()));

  await worker.runUntil(async () => {
    const scenarios: Record<string, Awaited<ReturnType<typeof start>>> = {};

    if (wanted('nurture-no-reply')) {
      // A nurture cadence sent to the end (day 0, 3 and 7), then 30 days without a reply.
      scenarios['nurture-no-reply'] = await start(nurtureLead({ email: 'nurture@replay.example' }));
      await skip(scenarios['nurture-no-reply'], 40 * DAY);
      await scenarios['nurture-no-reply'].result();
      await save('nurture-no-reply', scenarios['nurture-no-reply']);
    }

    if (wanted('sla-breached-then-unsubscribed')) {
      // An inbound lead whose SDR misses the SLA; the manager is told; the lead later unsubscribes.
      scenarios['sla-breached-then-unsubscribed'] = await start(fittingLead({ email: 'breach@replay.example' }));
      await until(scenarios['sla-breached-then-unsubscribed'], (s) => s.notice?.status === 'sent');
      await skip(scenarios['sla-breached-then-unsubscribed'], 6 * 60_000);
      await until(scenarios['sla-breached-then-unsubscribed'], (s) => firstTouch(s)?.rungs.some((r) => r.kind === 'breach' && r.status !== 'pending') ?? false);
      await scenarios['sla-breached-then-unsubscribed'].signal('unsubscribed');
      await scenarios['sla-breached-then-unsubscribed'].result();
      await save('sla-breached-then-unsubscribed', scenarios['sla-breached-then-unsubscribed']);
    }

    if (wanted('replied-touched-inactive')) {
      // A nurtured lead that replies after the cadence, goes to an SDR, is touched in time, and goes quiet.
      scenarios['replied-touched-inactive'] = await start(nurtureLead({ email: 'reply@replay.example' }));
      await skip(scenarios['replied-touched-inactive'], 10 * DAY);
      await until(scenarios['replied-touched-inactive'], (s) => s.stage === 'awaiting-reply');
      await scenarios['replied-touched-inactive'].signal('replied');
      await until(scenarios['replied-touched-inactive'], (s) => firstTouch(s) !== undefined && s.notice?.status === 'sent');
      // Only the owner's touch meets the SLA.
      const owner = (await scenarios['replied-touched-inactive'].query(journeyStateQuery)).owner!.email;
      await scenarios['replied-touched-inactive'].signal('touched', { by: owner });
      await until(scenarios['replied-touched-inactive'], (s) => firstTouch(s)?.status === 'met');
      await skip(scenarios['replied-touched-inactive'], 100 * DAY);
      await scenarios['replied-touched-inactive'].result();
      await save('replied-touched-inactive', scenarios['replied-touched-inactive']);
    }

    if (wanted('bounced')) {
      // A nurture e-mail refused for good: the cadence ends as bounced.
      scenarios['bounced'] = await start(nurtureLead({ email: 'bounce@replay.example' }));
      await scenarios['bounced'].result();
      await save('bounced', scenarios['bounced']);
    }

    if (wanted('paused-resumed')) {
      // Out of office for a week after the first nurture e-mail, then back: the cadence picks up where it stopped.
      scenarios['paused-resumed'] = await start(nurtureLead({ email: 'pause@replay.example' }));
      await skip(scenarios['paused-resumed'], DAY);
      await scenarios['paused-resumed'].signal('paused', { until: new Date((await env.currentTimeMs()) + 7 * DAY).toISOString() });
      await skip(scenarios['paused-resumed'], 3 * DAY);
      await scenarios['paused-resumed'].signal('resumed');
      await scenarios['paused-resumed'].result();
      await save('paused-resumed', scenarios['paused-resumed']);
    }

    if (wanted('ladder-reassigned')) {
      // Nobody touches an inbound lead: reminder, breach to the manager, then the next SDR takes it.
      scenarios['ladder-reassigned'] = await start(fittingLead({ email: 'ladder@replay.example' }));
      await until(scenarios['ladder-reassigned'], (s) => s.notice?.status === 'sent');
      await skip(scenarios['ladder-reassigned'], 31 * 60_000);
      await until(scenarios['ladder-reassigned'], (s) => s.previousOwners.length === 1 && s.notice?.status === 'sent');
      await scenarios['ladder-reassigned'].signal('disqualified');
      await scenarios['ladder-reassigned'].result();
      await save('ladder-reassigned', scenarios['ladder-reassigned']);
    }

    if (wanted('meeting-no-show-won')) {
      // Touched, a meeting booked (to field sales), a no-show, then an opportunity that is won.
      scenarios['meeting-no-show-won'] = await start(fittingLead({ email: 'meeting@replay.example' }));
      await until(scenarios['meeting-no-show-won'], (s) => s.notice?.status === 'sent');
      const sdr = (await scenarios['meeting-no-show-won'].query(journeyStateQuery)).owner!.email;
      await scenarios['meeting-no-show-won'].signal('touched', { by: sdr, channel: 'call' });
      await scenarios['meeting-no-show-won'].signal('meeting-booked', { notes: 'demo for the whole team' });
      await until(scenarios['meeting-no-show-won'], (s) => s.stage === 'meeting');
      await skip(scenarios['meeting-no-show-won'], 2 * DAY);
      await scenarios['meeting-no-show-won'].signal('no-show');
      await until(scenarios['meeting-no-show-won'], (s) => s.tasks.length === 1);
      await scenarios['meeting-no-show-won'].signal('opportunity');
      await until(scenarios['meeting-no-show-won'], (s) => s.stage === 'opportunity');
      await scenarios['meeting-no-show-won'].signal('closed-won');
      await scenarios['meeting-no-show-won'].result();
      await save('meeting-no-show-won', scenarios['meeting-no-show-won']);
    }

    if (wanted('closed-lost-recycled')) {
      // Closed-lost with a reason: 90 days of rest, then the recycle cadence; it unsubscribes later.
      scenarios['closed-lost-recycled'] = await start(fittingLead({ email: 'lost@replay.example' }));
      await until(scenarios['closed-lost-recycled'], (s) => s.notice?.status === 'sent');
      await scenarios['closed-lost-recycled'].signal('closed-lost', { reason: 'no budget this year' });
      await skip(scenarios['closed-lost-recycled'], 100 * DAY);
      await until(scenarios['closed-lost-recycled'], (s) => s.stage === 'nurturing' && s.sends.length > 0);
      await scenarios['closed-lost-recycled'].signal('unsubscribed');
      await scenarios['closed-lost-recycled'].result();
      await save('closed-lost-recycled', scenarios['closed-lost-recycled']);
    }

    if (wanted('sms-skipped')) {
      // A lead whose contact is off SMS, in a nurture cadence that opens with a text: the SMS is skipped.
      // Recorded twice: `sms-skipped-before-patch` by the code before inbound SMS (the skip ended the
      // cadence), `sms-skipped` by today's (the e-mails go on, after the sms-skip-continues marker).
      const texting = { ...config, cadences: { ...config.cadences, nurture: { ...config.cadences.nurture!, steps: [{ id: 'hello-sms', sms: 'a-checkin-sms' }, ...config.cadences.nurture!.steps] } } };
      const offSms = nurtureLead({ email: 'sms-skipped@replay.example', phone: '+14155550190' });
      await db.store.suppress({ email: offSms.email, channel: 'sms', reason: 'texted STOP', source: 'sms' });
      scenarios['sms-skipped'] = env.client.workflow.getHandle((await addLead(env.client, db.store, 'record', texting, offSms)).leadId);
      await skip(scenarios['sms-skipped'], 40 * DAY);
      await scenarios['sms-skipped'].result();
      await save('sms-skipped', scenarios['sms-skipped']);
    }

    if (wanted('tier-c-replied')) {
      // A tier-C account whose second contact replies: the program stops for both and goes to its BDR.
      const bdr = config.team.find((m) => m.role === 'bdr')!.email;
      const contacts = ['ana', 'ben'].map((name) => ({ email: `${name}@account.replay.example`, firstName: name }));
      const { programId } = await addAccount(env.client, db.store, 'record', config, { name: 'Replay Co', domain: 'account.replay.example', tier: 'C', owner: bdr, contacts });
      const program = env.client.workflow.getHandle(programId);
      await untilSettled(program);
      await env.sleep(10 * DAY);
      await program.signal('contactEvent', { contact: contacts[1]!.email, type: 'replied' });
      await program.result();
      keep(join(folder, 'accountProgram-v1-tier-c-replied.json'), historyToJSON(await program.fetchHistory()));
    }

    console.log(`done; histories are in ${folder}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
