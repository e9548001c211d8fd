// The lead journey of version 2 (the store, before cadences were data): journeys started then may
// still be running, and their histories must replay on exactly this code. Frozen: only imports,
// names and the types it carries (now declared here) changed from the original.
import {
  ActivityCancellationType,
  ActivityFailure,
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
import type { DeliveryResult } from '../../activities/deliver';
import { durationMs } from '../../config/duration';
import type { TeamMember } from '../../config/schema';
import type { JourneyEventType, SendKind } from '../../store/types';
import { Journal } from '../journal';
import type { Lead } from '../../config/lead';
import type { Role } from '../../config/schema';
import {
  closedSignal,
  disqualifiedSignal,
  MAX_HISTORY_EVENTS,
  repAssignedSignal,
  repliedSignal,
  touchedSignal,
  unsubscribedSignal,
  type Outcome,
  type SendStatus,
} from '../messages';
import { icpFit, type IcpFit } from './icpFit';
import type { ConfigV2 } from './configV2';

const JOURNEY_VERSION = 2;
const journeyStateQuery = defineQuery<JourneyStateV2>('state');

export interface JourneyInputV2 {
  version: typeof JOURNEY_VERSION;
  lead: Lead;
  config: ConfigV2;
  resume?: JourneyStateV2;
}

export interface JourneyStateV2 {
  leadId: string;
  email: string;
  stage: 'qualifying' | 'routing' | 'working' | 'nurturing' | 'awaiting-reply' | 'ended';
  outcome?: Outcome;
  endedAt?: string;
  qualification?: IcpFit;
  routedAs?: Lead['source'];
  owner?: { name: string; email: string; role: Role; assignedAt: string };
  notice?: { status: SendStatus; detail?: string };
  sla?: { kind: 'first-touch'; due: string; status: 'pending' | 'met' | 'breached' | 'stopped'; escalatedTo?: string };
  nurture?: { nextStep: number; nextDueAt: string; replyUntil?: string };
  sends: { cadence: 'nurture'; step: number; subject: string; status: SendStatus; detail?: string; at: string }[];
  next?: { what: string; dueAt: string };
  firstTouchAt?: string;
  lastActivityAt: string;
  repliedAt?: string;
  unsubscribedAt?: string;
  continuedAsNew: number;
}
type JourneyInput = JourneyInputV2;
type JourneyState = JourneyStateV2;
import { managerOf, memberByEmail, membersWithRole, roleFor } from '../rules/team';
import { OWNER, SLA_STATUS, SOURCE, STAGE } from '../searchAttributes';

// Messages retry transient failures (SMTP down, 4xx) with backoff for up to 6 hours; then the step is
// recorded as failed and the journey goes on. A permanent rejection (5xx) is not retried at all: the
// activity answers "bounced". Heartbeats let a crashed worker's send be retried within a minute.
// A cancelled journey abandons a send in flight rather than asking it to stop: a message half-way to
// the SMTP server cannot be called back, and the ledger records how it ended either way.
const { deliverRepNotice, deliverEscalation, deliverCadenceEmail } = proxyActivities<Activities>({
  cancellationType: ActivityCancellationType.ABANDON,
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const { requestRep, settleFailedSend, suppressContact } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

const iso = (ms: number) => new Date(ms).toISOString();

export async function leadJourneyV2(input: JourneyInput): Promise<JourneyState> {
  const { lead, config } = input;
  const info = workflowInfo();
  const leadId = info.workflowId;
  const now = () => iso(Date.now());
  const state: JourneyState = input.resume ?? { leadId, email: lead.email, stage: 'qualifying', sends: [], lastActivityAt: now(), continuedAsNew: 0 };
  const journal = new Journal(leadId, info.runId);
  // Everything that reaches out runs in this scope, so one cancel stops every timer and send.
  const outreach = new CancellationScope();
  let ending: Outcome | undefined;
  let assignedRep: string | undefined;
  const inactivityMs = durationMs(config.journey.endAfterInactivity);

  /** Derived from the journey and the step, never the attempt; the first run's ID sets apart a lead re-added later. */
  const sendKey = (what: string) => `${leadId}/${info.firstExecutionRunId}/${what}`;

  const sawActivity = (type: JourneyEventType) => {
    state.lastActivityAt = now();
    journal.add(type);
  };
  const end = (outcome: Outcome) => {
    if (ending || state.stage === 'ended') return;
    ending = outcome;
    if (outcome === 'unsubscribed') state.unsubscribedAt = now();
    outreach.cancel();
  };

  setHandler(journeyStateQuery, () => state);
  setHandler(repAssignedSignal, ({ rep }) => {
    assignedRep ??= rep;
  });
  // Only the owner's touch counts: a touch reported before anyone owns the lead meets no SLA.
  setHandler(touchedSignal, () => {
    if (!state.owner || state.stage === 'ended') return;
    state.firstTouchAt ??= now();
    sawActivity('touched');
  });
  setHandler(repliedSignal, () => {
    if (state.stage === 'ended') return;
    state.repliedAt ??= now();
    sawActivity('replied');
  });
  setHandler(unsubscribedSignal, () => end('unsubscribed'));
  setHandler(disqualifiedSignal, () => end('disqualified'));
  setHandler(closedSignal, () => end('closed'));

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

  /**
   * Waits until `done()` or the deadline (true when done). Meanwhile it writes the journal and, when
   * the history has grown long, continues as new with the state: only where nothing is in flight.
   */
  async function waitUntil(deadline: number, done: () => boolean, mayContinueAsNew = true): Promise<boolean> {
    for (;;) {
      // Decided before the journal is written, so the state reflects an event in the same task.
      if (done()) return true;
      publishSearchAttributes();
      await journal.flush();
      if (done()) return true;
      if (Date.now() >= deadline) return false;
      if (mayContinueAsNew && historyTooLong()) {
        await continueAsNew<(input: JourneyInput) => Promise<unknown>>({ version: JOURNEY_VERSION, lead, config, resume: { ...state, continuedAsNew: state.continuedAsNew + 1 } });
      }
      await condition(() => done() || journal.hasPending || (mayContinueAsNew && historyTooLong()), deadline - Date.now());
    }
  }

  /** A message's outcome; a send that kept failing past its retries is settled in the ledger as failed. */
  async function settled<R extends DeliveryResult>(
    intent: { key: string; kind: SendKind; recipient: string },
    send: () => Promise<R>,
  ): Promise<R | DeliveryResult> {
    try {
      return await send();
    } catch (err) {
      if (isCancellation(err)) throw err;
      const detail = `gave up retrying: ${causes(err)}`;
      await settleFailedSend({ ...intent, journeyId: leadId, detail });
      return { status: 'failed', detail };
    }
  }

  function qualify(): void {
    state.qualification = icpFit(lead, config.icp);
    if (state.qualification.fits) {
      state.stage = 'routing';
      state.routedAs = lead.source;
    } else {
      const first = config.cadences.nurture.steps[0]!;
      state.stage = 'nurturing';
      state.nurture = { nextStep: 0, nextDueAt: iso(Date.now() + durationMs(first.wait)) };
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
      const result = await settled({ key, kind: 'rep-notice', recipient: rep.email }, () =>
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
    const result = await settled({ key, kind: 'escalation', recipient: manager.email }, () =>
      deliverEscalation({ key, lead, leadId, rep, manager, due: iso(due), lateMs: Date.now() - due, notice: state.notice, sender: config.sender }),
    );
    if (result.status === 'sent') {
      state.sla!.escalatedTo = manager.email;
      journal.add('escalated', { to: manager.email, rep: rep.email });
    }
  }

  async function nurtureStep(): Promise<void> {
    const steps = config.cadences.nurture.steps;
    const { nextStep: index, nextDueAt } = state.nurture!;
    const step = steps[index]!;
    state.next = { what: `nurture e-mail ${index + 1} of ${steps.length}`, dueAt: nextDueAt };
    if (await waitUntil(Date.parse(nextDueAt), () => state.repliedAt !== undefined)) return raisedHand();
    const key = sendKey(`nurture/${index + 1}`);
    const result = await settled({ key, kind: 'cadence', recipient: lead.email }, () =>
      deliverCadenceEmail({ key, lead, leadId, cadence: 'nurture', stepIndex: index, step, sender: config.sender, unsubscribe: config.unsubscribe }),
    );
    const subject = 'subject' in result ? String(result.subject) : '';
    state.sends.push({ cadence: 'nurture', step: index + 1, subject, status: result.status, detail: result.detail, at: now() });
    // A suppressed or bouncing address gets nothing more from this cadence.
    if (result.status === 'skipped') return void (ending = 'suppressed');
    if (result.status === 'bounced') return void (ending = 'bounced');
    const following = steps[index + 1];
    if (following) {
      state.nurture = { nextStep: index + 1, nextDueAt: iso(Date.parse(nextDueAt) + durationMs(following.wait)) };
    } else {
      state.stage = 'awaiting-reply';
      state.nurture = { ...state.nurture!, replyUntil: iso(Date.now() + durationMs(config.journey.replyWindow)) };
    }
  }

  /** The cadence has ended, but a reply within the reply window still reaches an SDR. */
  async function awaitReply(): Promise<void> {
    const until = state.nurture!.replyUntil!;
    state.next = { what: 'a reply to the nurture cadence', dueAt: until };
    if (await waitUntil(Date.parse(until), () => state.repliedAt !== undefined)) return raisedHand();
    ending = 'no-reply';
  }

  /** A nurtured lead that replies has raised its hand: it goes to an SDR like any inbound lead. */
  function raisedHand(): void {
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
    // An unsubscribe outlives the journey: every later journey and channel checks the store first.
    if (outcome === 'unsubscribed') {
      await suppressContact({ email: lead.email, channel: 'all', reason: 'unsubscribed', source: 'journey' });
      journal.add('unsubscribed');
    }
    if (outcome === 'disqualified' || outcome === 'closed') journal.add(outcome);
    journal.add('ended', { outcome });
    publishSearchAttributes();
    await journal.flush();
  }

  try {
    await outreach.run(async () => {
      while (!ending) {
        if (state.stage === 'qualifying') qualify();
        else if (state.stage === 'routing') await route();
        else if (state.stage === 'nurturing') await nurtureStep();
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

/** "activity timed out: 451 mailbox busy": the timeout and the last attempt's error beneath it. */
function causes(err: unknown): string {
  const messages: string[] = [];
  for (let e = err instanceof ActivityFailure ? err.cause : (err as Error | undefined); e; e = (e as Error).cause as Error | undefined) {
    messages.push(e.message);
  }
  return messages.join(': ') || String(err);
}

function historyTooLong(): boolean {
  const { continueAsNewSuggested, historyLength } = workflowInfo();
  return continueAsNewSuggested || historyLength > MAX_HISTORY_EVENTS;
}
