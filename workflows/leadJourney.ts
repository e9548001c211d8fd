import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { durationMs } from '../config/duration';
import type { TeamMember } from '../config/schema';
import type { JourneyEventType } from '../store/types';
import { runCadence, sleeper, type CadenceHost } from './cadence/engine';
import { applyMigration, migrationAnswer } from './cadence/migration';
import { startRun, type CadenceRun } from './cadence/run';
import { historyTooLong, MESSAGE_DELIVERY, settled, STORE_CALL } from './history';
import { Journal } from './journal';
import { leadJourneyV1, type JourneyInputV1 } from './legacy/leadJourneyV1';
import { leadJourneyV2, type JourneyInputV2 } from './legacy/leadJourneyV2';
import {
  clickedSignal,
  closedSignal,
  convertedSignal,
  disqualifiedSignal,
  journeyStateQuery,
  meetingBookedSignal,
  migrateCadenceUpdate,
  openedSignal,
  pausedSignal,
  repAssignedSignal,
  repliedSignal,
  resumedSignal,
  touchedSignal,
  unsubscribedSignal,
  type CadenceMigration,
  type JourneyInput,
  type JourneyState,
  type Outcome,
  type SeenEvent,
} from './messages';
import { icpFit } from './rules/icpFit';
import { countryFor, timeZoneFor } from './rules/sendWindow';
import { managerOf, memberByEmail, membersWithRole, roleFor } from './rules/team';
import { OWNER, SLA_STATUS, SOURCE, STAGE } from './searchAttributes';

const { deliverRepNotice, deliverEscalation } = proxyActivities<Activities>(MESSAGE_DELIVERY);
const { requestRep, suppressContact } = proxyActivities<Activities>(STORE_CALL);

const iso = (ms: number) => new Date(ms).toISOString();
const isDone = (run: CadenceRun) => run.status === 'done';
/** State lists keep their latest entries only, so a months-long journey's state stays small. */
const KEEP = 50;

/**
 * One lead's journey: qualify by ICP fit, then either hand the lead to the next rep in turn under a
 * first-touch SLA, or run the nurture cadence the config names and wait a while for a reply. It ends
 * at a terminal outcome, recorded in the store. Journeys of earlier input versions run their own code.
 */
export async function leadJourney(input: JourneyInput | JourneyInputV2 | JourneyInputV1): Promise<unknown> {
  if (!('version' in input)) return leadJourneyV1(input);
  if (input.version === 2) return leadJourneyV2(input);
  return journey(input);
}

async function journey(input: JourneyInput): Promise<JourneyState> {
  const { lead, config } = input;
  const info = workflowInfo();
  const leadId = info.workflowId;
  const now = () => iso(Date.now());
  const state: JourneyState = input.resume ?? {
    leadId,
    email: lead.email,
    stage: 'qualifying',
    sends: [],
    tasks: [],
    events: [],
    lastActivityAt: now(),
    continuedAsNew: 0,
    ...(config.sending.sandbox ? { sandbox: true as const } : {}),
  };
  const journal = new Journal(leadId, info.runId);
  // Everything that reaches out runs in this scope, so one cancel stops every timer and send.
  const outreach = new CancellationScope();
  let ending: Outcome | undefined;
  let assignedRep: string | undefined;
  /** A reply or booked meeting that ends the cadence: the lead goes to an SDR. */
  let raisedHandBy: string | undefined;
  let migration: CadenceMigration | undefined;
  const inactivityMs = durationMs(config.journey.endAfterInactivity);
  const exitsOn = (event: string) => Boolean(state.cadence && (config.cadences[state.cadence.cadence]?.exitOn as string[] | undefined)?.includes(event));

  /** Derived from the journey and the step, never the attempt; the first run's ID sets apart a lead re-added later. */
  const sendKey = (what: string) => `${leadId}/${info.firstExecutionRunId}/${what}`;

  const saw = (type: string, detail: Omit<SeenEvent, 'type' | 'at'> = {}) => {
    state.events = [...state.events, { type, at: now(), ...detail }].slice(-KEEP);
  };
  const sawActivity = (type: JourneyEventType, detail?: Record<string, unknown>) => {
    state.lastActivityAt = now();
    journal.add(type, detail);
  };
  const end = (outcome: Outcome) => {
    if (ending || state.stage === 'ended') return;
    ending = outcome;
    if (outcome === 'unsubscribed') state.unsubscribedAt = now();
    outreach.cancel();
  };

  setHandler(journeyStateQuery, () => ({ ...state, next: state.next ?? nextTouch(state.cadence) }));
  setHandler(repAssignedSignal, ({ rep }) => {
    assignedRep ??= rep;
  });
  // Only the owner's touch counts: a touch reported before anyone owns the lead meets no SLA. A
  // touch on a task's channel closes the oldest open task there.
  setHandler(touchedSignal, (detail = {}) => {
    if (state.stage === 'ended') return;
    saw('touched', detail);
    const task = state.tasks.find((t) => t.status === 'open' && (!detail.channel || t.channel === detail.channel));
    if (task) Object.assign(task, { status: 'done', doneAt: now(), outcome: detail.outcome });
    if (!state.owner && !task) return;
    if (state.owner) state.firstTouchAt ??= now();
    sawActivity('touched', { ...detail });
  });
  const handRaised = (event: 'replied' | 'meeting-booked') => () => {
    if (state.stage === 'ended') return;
    saw(event);
    if (event === 'replied') state.repliedAt ??= now();
    sawActivity(event === 'replied' ? 'replied' : 'meeting-booked');
    if ((state.stage === 'nurturing' && exitsOn(event)) || state.stage === 'awaiting-reply') raisedHandBy ??= event;
  };
  setHandler(repliedSignal, handRaised('replied'));
  setHandler(meetingBookedSignal, handRaised('meeting-booked'));
  setHandler(openedSignal, () => saw('opened'));
  setHandler(clickedSignal, () => saw('clicked'));
  setHandler(unsubscribedSignal, () => end('unsubscribed'));
  setHandler(disqualifiedSignal, () => end('disqualified'));
  setHandler(closedSignal, () => end('closed'));
  setHandler(convertedSignal, () => {
    saw('converted');
    if (state.stage !== 'nurturing' || exitsOn('converted')) end('converted');
  });
  setHandler(pausedSignal, ({ until } = {}) => {
    saw('paused');
    const run = state.cadence;
    if (run && run.status === 'running') Object.assign(run, { status: 'paused', pausedUntil: until });
    journal.add('paused', { until });
  });
  setHandler(resumedSignal, () => {
    saw('resumed');
    if (state.cadence?.status === 'paused') state.cadence.status = 'running';
  });
  setHandler(migrateCadenceUpdate, (request) => {
    const answer = migrationAnswer(state.cadence, request, config);
    if (answer.moved) migration = request;
    return answer;
  });

  const published = new Map<string, string>();
  /** Upserts only what changed, so a journey's history carries one entry per real move. */
  function publishSearchAttributes(): void {
    const current = [
      [STAGE, state.stage],
      [OWNER, state.owner?.email],
      [SOURCE, lead.source],
      [SLA_STATUS, state.sla?.status],
    ] as const;
    const changed = current.filter(([key, value]) => value !== undefined && published.get(key.name) !== value);
    if (changed.length === 0) return;
    upsertSearchAttributes(changed.map(([key, value]) => ({ key, value: value! })));
    for (const [key, value] of changed) published.set(key.name, value!);
  }
  const housekeeping = async () => {
    publishSearchAttributes();
    await journal.flush();
  };

  async function continueAsNewIfLong(): Promise<void> {
    if (!historyTooLong()) return;
    await housekeeping();
    await continueAsNew<typeof leadJourney>({ ...input, resume: { ...state, continuedAsNew: state.continuedAsNew + 1 } });
  }

  /**
   * Waits until `done()` or the deadline (true when done). Meanwhile it writes the journal and, when
   * the history has grown long, continues as new with the state: only where nothing is in flight.
   */
  async function waitUntil(deadline: number, done: () => boolean, mayContinueAsNew = true): Promise<boolean> {
    for (;;) {
      // Decided before the journal is written, so the state reflects an event in the same task.
      if (done()) return true;
      await housekeeping();
      if (done()) return true;
      if (Date.now() >= deadline) return false;
      if (mayContinueAsNew) await continueAsNewIfLong();
      await condition(() => done() || journal.hasPending || (mayContinueAsNew && historyTooLong()), deadline - Date.now());
    }
  }

  function qualify(): void {
    state.qualification = icpFit(lead, config.icp);
    if (state.qualification.fits) {
      state.stage = 'routing';
      state.routedAs = lead.source;
    } else {
      state.stage = 'nurturing';
      state.cadence = startRun(config.journey.nurtureCadence, Date.now(), input.configVersion);
    }
  }

  async function route(): Promise<void> {
    const role = roleFor(state.routedAs!);
    await requestRep({ role, reps: membersWithRole(config, role).map((m) => m.email), leadId });
    await condition(() => assignedRep !== undefined);
    const rep = memberByEmail(config, assignedRep!);
    state.stage = 'working';
    state.owner = { name: rep.name, email: rep.email, role, assignedAt: now() };
    sawActivity('assigned');
    const sla = config.sla.firstTouch[state.routedAs!];
    // The SLA clock starts at assignment, not when the rep's notice happens to be delivered.
    if (sla) state.sla = { kind: 'first-touch', due: iso(Date.now() + durationMs(sla)), status: 'pending' };
  }

  /** The rep's notice runs beside the SLA clock: a notice that cannot be delivered never stops the clock. */
  async function noticeRep(rep: TeamMember): Promise<void> {
    const key = sendKey(`rep-notice/${rep.email}`);
    state.notice = { status: 'sending' };
    try {
      const result = await settled({ key, journeyId: leadId, kind: 'rep-notice', recipient: rep.email }, () =>
        deliverRepNotice({ key, lead, leadId, rep, firstTouchDue: state.sla?.due, sender: config.sender }),
      );
      state.notice = { status: result.status, detail: result.detail };
      journal.add(result.status === 'sent' ? 'notified' : 'notice-failed', { rep: rep.email, status: result.status, detail: result.detail });
    } catch (err) {
      // Cancelled with the rest of the outreach: nothing to record, and nothing left unhandled.
      if (!isCancellation(err)) throw err;
    }
  }

  async function work(): Promise<void> {
    const rep = memberByEmail(config, state.owner!.email);
    const notice = state.notice ? Promise.resolve() : noticeRep(rep);
    const sla = state.sla;
    if (sla?.status === 'pending') {
      const due = Date.parse(sla.due);
      state.next = { what: `first touch by ${rep.name}`, dueAt: sla.due };
      const touchedInTime = await waitUntil(due, () => state.firstTouchAt !== undefined, false);
      state.next = undefined;
      if (touchedInTime) {
        sla.status = 'met';
        journal.add('sla-met', { rep: rep.email });
      } else {
        sla.status = 'breached';
        journal.add('sla-breached', { rep: rep.email, due: sla.due });
        publishSearchAttributes();
        await escalate(rep, due);
      }
    }
    await notice;
    // Then the lead stays with its rep until an event ends it, or nothing happens for too long.
    for (;;) {
      const quietUntil = Date.parse(state.lastActivityAt) + inactivityMs;
      state.next = { what: 'ends as inactive unless something happens', dueAt: iso(quietUntil) };
      const active = await waitUntil(quietUntil, () => Date.parse(state.lastActivityAt) + inactivityMs > quietUntil);
      if (!active) return void (ending = 'inactive');
    }
  }

  async function escalate(rep: TeamMember, due: number): Promise<void> {
    const manager = managerOf(config, rep);
    const key = sendKey('sla-breach/first-touch');
    const result = await settled({ key, journeyId: leadId, kind: 'escalation', recipient: manager.email }, () =>
      deliverEscalation({ key, lead, leadId, rep, manager, due: iso(due), lateMs: Date.now() - due, notice: state.notice, sender: config.sender }),
    );
    if (result.status === 'sent') {
      state.sla!.escalatedTo = manager.email;
      journal.add('escalated', { to: manager.email, rep: rep.email });
    }
  }

  const host: CadenceHost = {
    config,
    journeyId: leadId,
    person: { ...lead, timezone: timeZoneFor(lead, config.sending.timezone), country: countryFor(lead) },
    context: {
      lead,
      contact: lead,
      account: { name: lead.company, industry: lead.industry, region: lead.region, employees: lead.employees, country: lead.country, domain: lead.email.split('@')[1] },
      sender: config.sender,
    },
    unsubscribeId: leadId,
    rotationOffset: 0,
    sendKey,
    sleepUntil: sleeper({
      stop: () => ending !== undefined || raisedHandBy !== undefined || migration !== undefined || historyTooLong(),
      housekeeping,
      busy: () => journal.hasPending,
    }),
    seen: (type, since) => state.events.some((e) => e.type === type && Date.parse(e.at) >= since),
    // Nurtured leads have no owner yet: their tasks go to the first SDR.
    taskOwner: () => (state.owner ? memberByEmail(config, state.owner.email) : membersWithRole(config, 'sdr')[0]!),
    onTouch: (touch) => {
      state.sends = [...state.sends, touch].slice(-KEEP);
    },
    onTask: (task) => {
      state.tasks = [...state.tasks, task].slice(-KEEP);
    },
  };

  /** The nurture cadence, run by the engine until it ends or something stops it at a step boundary. */
  async function nurture(): Promise<void> {
    const run = state.cadence!;
    while (run.status !== 'done' && !ending && !raisedHandBy) {
      state.next = undefined;
      await runCadence(host, run);
      if (migration) {
        journal.add('migrated', applyMigration(run, migration, config));
        migration = undefined;
      }
      if (!isDone(run)) await continueAsNewIfLong();
    }
    if (raisedHandBy) return raisedHand();
    if (ending) return;
    if (run.exit === 'suppressed' || run.exit === 'bounced') return void (ending = run.exit);
    state.stage = 'awaiting-reply';
    state.replyUntil = iso(Date.now() + durationMs(config.journey.replyWindow));
  }

  /** The cadence has ended, but a reply within the reply window still reaches an SDR. */
  async function awaitReply(): Promise<void> {
    const until = state.replyUntil!;
    state.next = { what: 'a reply to the nurture cadence', dueAt: until };
    if (await waitUntil(Date.parse(until), () => raisedHandBy !== undefined)) return raisedHand();
    ending = 'no-reply';
  }

  /** A nurtured lead that replies has raised its hand: it goes to an SDR like any inbound lead. */
  function raisedHand(): void {
    if (state.cadence && state.cadence.status !== 'done') Object.assign(state.cadence, { status: 'done', exit: raisedHandBy, pending: undefined });
    raisedHandBy = undefined;
    state.stage = 'routing';
    state.routedAs = 'inbound';
    state.next = undefined;
  }

  async function finish(outcome: Outcome): Promise<void> {
    state.stage = 'ended';
    state.outcome = outcome;
    state.endedAt = now();
    state.next = undefined;
    if (state.sla?.status === 'pending') state.sla.status = 'stopped';
    if (state.cadence && state.cadence.status !== 'done') Object.assign(state.cadence, { status: 'done', exit: outcome, pending: undefined });
    // An unsubscribe outlives the journey: every later journey and channel checks the store first.
    if (outcome === 'unsubscribed') {
      await suppressContact({ email: lead.email, channel: 'all', reason: 'unsubscribed', source: 'journey' });
      journal.add('unsubscribed');
    }
    if (outcome === 'disqualified' || outcome === 'closed' || outcome === 'converted') journal.add(outcome);
    journal.add('ended', { outcome });
    await housekeeping();
  }

  try {
    await outreach.run(async () => {
      while (!ending) {
        if (state.stage === 'qualifying') qualify();
        else if (state.stage === 'routing') await route();
        else if (state.stage === 'nurturing') await nurture();
        else if (state.stage === 'awaiting-reply') await awaitReply();
        else if (state.stage === 'working') await work();
      }
    });
  } catch (err) {
    if (!(isCancellation(err) && ending)) throw err;
  }
  await finish(ending!);
  return state;
}


/** What the cadence waits to do, when, and every reason it moved: the answer to "why not yet?". */
function nextTouch(run: CadenceRun | undefined): JourneyState['next'] {
  const pending = run?.status === 'running' ? run.pending : undefined;
  if (!pending) return undefined;
  const shifted = pending.shifted.map(({ reason, detail }) => ({ reason, detail }));
  return { what: `${pending.channel} ${run!.cadence}/${pending.stepId}`, dueAt: pending.at, local: pending.local, shifted };
}

