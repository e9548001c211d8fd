// The lead journey of version 3 (cadences as data, before weighted qualification, routing rules
// and the SLA ladder): journeys started then may still be running, and their histories must replay
// on exactly this code. Frozen: only imports, names and the types it carries (now declared here)
// changed from the original.
import {
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../config/duration';
import type { Lead } from '../../config/lead';
import type { Config, Role, TeamMember } from '../../config/schema';
import type { JourneyEventType } from '../../store/types';
import { runCadence, sleeper, type CadenceHost, type TaskRecord, type TouchRecord } from '../cadence/engine';
import { applyMigration, migrationAnswer } from '../cadence/migration';
import { startRun, type CadenceRun } from '../cadence/run';
import { historyTooLong, MESSAGE_DELIVERY, settled, STORE_CALL } from '../history';
import { Journal } from '../journal';
import {
  clickedSignal,
  closedSignal,
  convertedSignal,
  disqualifiedSignal,
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
} from '../messages';
import { countryFor, timeZoneFor } from '../rules/sendWindow';
import { managerOf, memberByEmail, membersWithRole, roleFor } from '../rules/team';
import { OWNER, SLA_STATUS, SOURCE, STAGE } from '../searchAttributes';
import { icpFit, type Icp, type IcpFit } from './icpFit';

/** The config version-3 journeys carry: an all-or-nothing ICP and one first-touch SLA per source. */
export type ConfigV3 = Omit<Config, 'qualification' | 'routing' | 'sla' | 'journey'> & {
  icp: Icp;
  sla: { firstTouch: { inbound?: string; outbound?: string } };
  journey: { nurtureCadence: string; replyWindow: string; endAfterInactivity: string };
};

/** The same query name every version answers, with this version's state. */
const journeyStateQuery = defineQuery<JourneyStateV3>('state');

export interface JourneyInputV3 {
  version: 3;
  lead: Lead;
  config: ConfigV3;
  configVersion?: number;
  resume?: JourneyStateV3;
}

export type StageV3 = 'qualifying' | 'routing' | 'working' | 'nurturing' | 'awaiting-reply' | 'ended';

/** Why a journey ended: each is terminal, and recorded in the store as the `ended` event. */
export type OutcomeV3 = 'unsubscribed' | 'suppressed' | 'bounced' | 'disqualified' | 'closed' | 'converted' | 'no-reply' | 'inactive';

/** How a message of the journey went, as the send ledger settled it. */
type SendStatus = 'sending' | 'sent' | 'skipped' | 'bounced' | 'failed';

/** An event seen from outside, kept for branch steps ("opened within 3 days"). */
interface SeenEventV3 {
  type: string;
  at: string;
  channel?: string;
  outcome?: string;
}

export interface JourneyStateV3 {
  leadId: string;
  email: string;
  stage: StageV3;
  outcome?: OutcomeV3;
  endedAt?: string;
  qualification?: IcpFit;
  /** Inbound or outbound: where the lead came from, or "inbound" once a nurtured lead replied. */
  routedAs?: Lead['source'];
  owner?: { name: string; email: string; role: Role; assignedAt: string };
  /** The rep's e-mail about the new lead; it never holds up the SLA clock. */
  notice?: { status: SendStatus; detail?: string };
  sla?: {
    kind: 'first-touch';
    due: string;
    status: 'pending' | 'met' | 'breached' | 'stopped';
    escalatedTo?: string;
  };
  /** Where the lead is in its nurture cadence. */
  cadence?: CadenceRun;
  /** After the cadence: until when a reply still reaches an SDR. */
  replyUntil?: string;
  /** Messages to the lead, in the order they were settled (the latest 50). */
  sends: TouchRecord[];
  /** Manual touches the cadence gave the owner (the latest 50); done when the owner reports that channel's touch. */
  tasks: TaskRecord[];
  /** The latest events from outside, for branches and for `lead show`. */
  events: SeenEventV3[];
  /** The config says sending.sandbox: windows, weekends and holidays are ignored for this journey. */
  sandbox?: true;
  next?: { what: string; dueAt: string; local?: string; shifted?: { reason: string; detail: string }[] };
  /** When the owner first touched the lead (call, e-mail, social), as the rep or CRM reported it. */
  firstTouchAt?: string;
  /** The last sign of life from either side: the journey ends after `journey.endAfterInactivity` of none. */
  lastActivityAt: string;
  repliedAt?: string;
  unsubscribedAt?: string;
  /** Runs before this one: long journeys continue as new so no history grows without bound. */
  continuedAsNew: number;
}


const { deliverRepNotice, deliverEscalation } = proxyActivities<Activities>(MESSAGE_DELIVERY);
const { requestRep, suppressContact } = proxyActivities<Activities>(STORE_CALL);

const iso = (ms: number) => new Date(ms).toISOString();
const isDone = (run: CadenceRun) => run.status === 'done';
/** State lists keep their latest entries only, so a months-long journey's state stays small. */
const KEEP = 50;

export async function leadJourneyV3(input: JourneyInputV3): Promise<JourneyStateV3> {
  const { lead, config } = input;
  const info = workflowInfo();
  const leadId = info.workflowId;
  const now = () => iso(Date.now());
  const state: JourneyStateV3 = input.resume ?? {
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
  let ending: OutcomeV3 | undefined;
  let assignedRep: string | undefined;
  /** A reply or booked meeting that ends the cadence: the lead goes to an SDR. */
  let raisedHandBy: string | undefined;
  let migration: CadenceMigration | undefined;
  const inactivityMs = durationMs(config.journey.endAfterInactivity);
  const exitsOn = (event: string) => Boolean(state.cadence && (config.cadences[state.cadence.cadence]?.exitOn as string[] | undefined)?.includes(event));

  /** Derived from the journey and the step, never the attempt; the first run's ID sets apart a lead re-added later. */
  const sendKey = (what: string) => `${leadId}/${info.firstExecutionRunId}/${what}`;

  const saw = (type: string, detail: Omit<SeenEventV3, 'type' | 'at'> = {}) => {
    state.events = [...state.events, { type, at: now(), ...detail }].slice(-KEEP);
  };
  const sawActivity = (type: JourneyEventType, detail?: Record<string, unknown>) => {
    state.lastActivityAt = now();
    journal.add(type, detail);
  };
  const end = (outcome: OutcomeV3) => {
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
    await continueAsNew<(input: JourneyInputV3) => Promise<unknown>>({ ...input, resume: { ...state, continuedAsNew: state.continuedAsNew + 1 } });
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

  async function finish(outcome: OutcomeV3): Promise<void> {
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
function nextTouch(run: CadenceRun | undefined): JourneyStateV3['next'] {
  const pending = run?.status === 'running' ? run.pending : undefined;
  if (!pending) return undefined;
  const shifted = pending.shifted.map(({ reason, detail }) => ({ reason, detail }));
  return { what: `${pending.channel} ${run!.cadence}/${pending.stepId}`, dueAt: pending.at, local: pending.local, shifted };
}

