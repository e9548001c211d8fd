import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AssignAnswer } from '../activities/routing';
import type { TeamMessage } from '../activities/teamMessages';
import { durationMs } from '../config/duration';
import type { Behaviour } from '../config/qualification';
import type { TeamMember } from '../config/schema';
import type { JourneyEventType } from '../store/types';
import { Alarm, conditionWait, type Wait } from './alarm';
import { runCadence, sleeper, type CadenceHost } from './cadence/engine';
import { applyMigration, migrationAnswer } from './cadence/migration';
import { startRun, type CadenceRun } from './cadence/run';
import { historyTooLong, LOCAL_STORE_CALL, MESSAGE_DELIVERY, QUICK_DELIVERY, settled, STORE_CALL } from './history';
import { Journal } from './journal';
import { leadJourneyV1, type JourneyInputV1 } from './legacy/leadJourneyV1';
import { leadJourneyV2, type JourneyInputV2 } from './legacy/leadJourneyV2';
import { leadJourneyV3, type JourneyInputV3 } from './legacy/leadJourneyV3';
import {
  bantSignal,
  behaviourSignal,
  clickedSignal,
  closedLostSignal,
  closedSignal,
  closedWonSignal,
  convertedSignal,
  disqualifiedSignal,
  journeyStateQuery,
  meetingBookedSignal,
  migrateCadenceUpdate,
  noShowSignal,
  openedSignal,
  opportunitySignal,
  pausedSignal,
  repAssignedSignal,
  repliedSignal,
  resumedSignal,
  routingChangedSignal,
  touchedSignal,
  unsubscribedSignal,
  type CadenceMigration,
  type JourneyInput,
  type JourneyState,
  type Outcome,
  type SeenEvent,
} from './messages';
import { qualify } from './rules/qualification';
import { countryFor, timeZoneFor } from './rules/sendWindow';
import { managerOf, membersWithRole } from './rules/team';
import { OWNER, SLA_STATUS, SOURCE, STAGE } from './searchAttributes';
import { clocksFor, watchSla, type SlaHost } from './slaWatch';

const { deliverRepNotice, deliverTeamMessage, deliverTouch, deliverTask } = proxyActivities<Activities>(MESSAGE_DELIVERY);
const { assignLead, releaseLead, suppressContact } = proxyActivities<Activities>(STORE_CALL);
// Version 5: the speed-to-lead path (rep chosen, rep told) stays inside the journey's workflow task.
const { assignLead: assignLeadNow } = proxyLocalActivities<Activities>(LOCAL_STORE_CALL);
const { deliverRepNotice: deliverRepNoticeNow } = proxyLocalActivities<Activities>(QUICK_DELIVERY);

const iso = (ms: number) => new Date(ms).toISOString();
// Read through a function: TypeScript would otherwise assume the engine cannot have changed the status.
const isDone = (run: CadenceRun) => run.status === 'done';
/** State lists keep their latest entries only, so a months-long journey's state stays small. */
const KEEP = 50;
const KEEP_BEHAVIOUR = 100;
const sameEmail = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * One lead's journey. Journeys of earlier input versions run their own frozen code; this one
 * qualifies by fit and interest, routes through the store, watches the owner's SLAs rung by rung,
 * and follows the lead through the cycle's handoffs until a terminal outcome, recorded in the store.
 */
export async function leadJourney(input: JourneyInput | JourneyInputV3 | JourneyInputV2 | JourneyInputV1): Promise<unknown> {
  if (!('version' in input)) return leadJourneyV1(input);
  if (input.version === 2) return leadJourneyV2(input);
  if (input.version === 3) return leadJourneyV3(input);
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
    behaviour: [],
    bant: lead.bant,
    previousOwners: [],
    slas: [],
    repTouches: [],
    sends: [],
    tasks: [],
    events: [],
    lastActivityAt: now(),
    continuedAsNew: 0,
    ...(config.sending.sandbox ? { sandbox: true as const } : {}),
  };
  const journal = new Journal(leadId, info.runId);
  const inTask = input.version >= 5;
  const assign = inTask ? assignLeadNow : assignLead;
  const alarm = new Alarm();
  const waitFor: Wait = inTask ? (done, deadline) => alarm.wait(done, deadline) : conditionWait;
  // Everything that reaches out runs in this scope, so one cancel stops every timer and send.
  const outreach = new CancellationScope();
  let ending: Outcome | undefined;
  /** A reply, booked meeting or sales-ready score that ends the cadence: the lead goes to sales. */
  let raisedHandBy: string | undefined;
  let migration: CadenceMigration | undefined;
  /** Set by routingChanged / repAssigned: a queued lead asks the store again at once. */
  let routingNudged = false;
  /** Set by the SLA ladder's last rung: the lead goes to the next rep. */
  let reassignFor: string | undefined;
  /** Set by a booked meeting while a rep works the lead: field sales takes over. */
  let meetingBooked = false;
  let noShows = 0;
  let hotLeadAlerts = 0;
  const inactivityMs = durationMs(config.journey.endAfterInactivity);
  const exitsOn = (event: string) => Boolean(state.cadence && (config.cadences[state.cadence.cadence]?.exitOn as string[] | undefined)?.includes(event));
  const snapshot = { routing: config.routing, team: config.team };

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
  const ownerMember = (): TeamMember | undefined => (state.owner ? config.team.find((m) => sameEmail(m.email, state.owner!.email)) ?? { ...state.owner, timezone: config.sending.timezone } : undefined);

  /** The lead's fit and interest as of now: a lead moves cells as events arrive. */
  function requalify(): void {
    const before = state.qualification?.cell;
    state.qualification = qualify(lead, state.behaviour, state.bant, config.qualification, Date.now());
    if (before !== undefined && before !== state.qualification.cell) journal.add('requalified', { from: before, to: state.qualification.cell, action: state.qualification.action });
    // A nurtured lead that crosses into a route cell goes to sales at once.
    if ((state.stage === 'nurturing' || state.stage === 'awaiting-reply') && state.qualification.action === 'route') raisedHandBy ??= 'sales-ready';
  }
  const behaved = (type: Behaviour) => {
    if (state.stage === 'ended') return;
    state.behaviour = [...state.behaviour, { type, at: Date.now() }].slice(-KEEP_BEHAVIOUR);
    saw(type);
    requalify();
  };

  setHandler(journeyStateQuery, () => ({ ...state, next: state.next ?? nextTouch(state.cadence) }));
  setHandler(repAssignedSignal, () => void (routingNudged = true));
  setHandler(routingChangedSignal, () => void (routingNudged = true));
  // Every touch is kept, even one reported before the assignment completed; the SLA clocks count
  // only the owner's. A touch on a task's channel closes the oldest open task there.
  setHandler(touchedSignal, (detail = {}) => {
    if (state.stage === 'ended') return;
    saw('touched', detail);
    state.repTouches = [...state.repTouches, { ...detail, at: now() }].slice(-KEEP);
    const task = state.tasks.find((t) => t.status === 'open' && (!detail.channel || t.channel === detail.channel));
    if (task) Object.assign(task, { status: 'done', doneAt: now(), outcome: detail.outcome });
    if (state.owner && sameEmail(detail.by, state.owner.email)) state.firstTouchAt ??= now();
    sawActivity('touched', { ...detail, counts: Boolean(state.owner && sameEmail(detail.by, state.owner.email)) });
  });
  setHandler(repliedSignal, () => {
    if (state.stage === 'ended') return;
    saw('replied');
    state.repliedAt = now();
    state.behaviour = [...state.behaviour, { type: 'replied' as const, at: Date.now() }].slice(-KEEP_BEHAVIOUR);
    sawActivity('replied');
    if ((state.stage === 'nurturing' && exitsOn('replied')) || state.stage === 'awaiting-reply') raisedHandBy ??= 'replied';
    requalify();
  });
  setHandler(meetingBookedSignal, (detail = {}) => {
    if (state.stage === 'ended') return;
    saw('meeting-booked');
    sawActivity('meeting-booked', { ...detail });
    state.deal = { stage: 'meeting-booked', at: now(), notes: detail.notes };
    if ((state.stage === 'nurturing' && exitsOn('meeting-booked')) || state.stage === 'awaiting-reply') raisedHandBy ??= 'meeting-booked';
    else if (state.stage === 'working' || state.stage === 'queued' || state.stage === 'routing') meetingBooked = true;
  });
  setHandler(noShowSignal, () => {
    if (state.stage === 'ended') return;
    saw('no-show');
    sawActivity('no-show');
    if (state.deal) state.deal = { ...state.deal, stage: 'no-show', at: now() };
    noShows++;
  });
  setHandler(opportunitySignal, (detail = {}) => {
    if (state.stage === 'ended') return;
    saw('opportunity');
    sawActivity('opportunity', { ...detail });
    state.deal = { ...state.deal, stage: 'opportunity', at: now(), notes: detail.notes ?? state.deal?.notes };
    if (state.stage === 'meeting' || state.stage === 'working') state.stage = 'opportunity';
  });
  setHandler(closedWonSignal, () => {
    saw('closed-won');
    state.deal = { ...state.deal, stage: 'won', at: now() };
    end('won');
  });
  setHandler(closedLostSignal, (detail = {}) => {
    if (state.stage === 'ended') return;
    saw('closed-lost');
    sawActivity('lost', { reason: detail.reason });
    state.deal = { ...state.deal, stage: 'lost', at: now(), lostReason: detail.reason };
    if (!config.journey.recycle) return end('closed');
    state.stage = 'cooling-off';
  });
  setHandler(openedSignal, () => behaved('opened'));
  setHandler(clickedSignal, () => {
    behaved('clicked');
    // A click from a lead someone owns is a hot lead: the owner hears at once.
    if (state.owner && state.stage !== 'ended') hotLeadAlerts++;
  });
  setHandler(behaviourSignal, ({ type }) => behaved(type));
  setHandler(bantSignal, (bant) => {
    if (state.stage === 'ended') return;
    state.bant = { ...state.bant, ...bant };
    saw('bant');
    sawActivity('bant', { ...bant });
    requalify();
  });
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
    const slaStatus = state.slas.some((s) => s.status === 'breached') ? 'breached' : state.slas.some((s) => s.status === 'pending') ? 'pending' : state.slas.at(-1)?.status;
    const current = [
      [STAGE, state.stage],
      [OWNER, state.owner?.email],
      [SOURCE, lead.source],
      [SLA_STATUS, slaStatus],
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
      await waitFor(() => done() || journal.hasPending || (mayContinueAsNew && historyTooLong()), deadline);
    }
  }

  /** A message to someone on the team, once per key, recorded in the ledger; a failure never stops the journey. */
  async function tell(what: string, message: TeamMessage, recipient: string): Promise<string> {
    const key = sendKey(what);
    const result = await settled({ key, journeyId: leadId, kind: message.kind, recipient }, () =>
      deliverTeamMessage({ ...message, key, leadId, lead, sender: config.sender, smsFrom: config.sms?.from, at: now() }),
    );
    return result.status;
  }

  function qualifyLead(): void {
    requalify();
    const action = state.qualification!.action;
    journal.add('qualified', { grade: state.qualification!.fit.grade, level: state.qualification!.interest.level, action });
    if (action === 'drop') return void (ending = 'dropped');
    if (action === 'route') {
      state.stage = 'routing';
      state.routedAs = lead.source;
    } else {
      state.stage = 'nurturing';
      state.cadence = startRun(config.journey.nurtureCadence, Date.now(), input.configVersion);
    }
  }

  /** Asks the store for a rep: assigned, or queued until one frees up (the store keeps the queue in order). */
  async function route(): Promise<void> {
    for (;;) {
      routingNudged = false;
      const answer = await assign({ leadId, lead, grade: state.qualification!.fit.grade, purpose: 'route', at: now(), snapshot });
      if (answer.status === 'assigned') return becomeOwner(answer, 'route');
      if (answer.status !== 'queued') throw new Error(answer.status === 'no-pool' ? answer.detail : 'the store answered a first assignment as a reassignment');
      await waitInQueue(answer);
      if (ending) return;
    }
  }

  async function waitInQueue(answer: Extract<AssignAnswer, { status: 'queued' }>): Promise<void> {
    const first = state.stage !== 'queued';
    state.stage = 'queued';
    state.queued = { pool: answer.pool, since: state.queued?.since ?? now(), position: answer.position, skipped: answer.skipped };
    if (first) {
      journal.add('queued', { pool: answer.pool, position: answer.position, skipped: answer.skipped });
      // The manager hears once per lead that waits, not at every retry.
      await tell(`queued/${answer.pool}`, { kind: 'queued', pool: answer.pool, position: answer.position, skipped: answer.skipped, manager: answer.manager }, answer.manager.email);
    }
    const recheck = Date.now() + durationMs(config.routing.queueRecheck);
    state.next = { what: `a rep in pool ${answer.pool} (position ${answer.position})`, dueAt: iso(recheck) };
    await waitUntil(recheck, () => routingNudged || ending !== undefined || meetingBooked);
    state.next = undefined;
  }

  function becomeOwner(answer: Extract<AssignAnswer, { status: 'assigned' }>, why: 'route' | 'reassign' | 'meeting'): void {
    if (state.owner && !sameEmail(state.owner.email, answer.rep.email)) {
      state.previousOwners = [...state.previousOwners, { email: state.owner.email, until: now(), why }].slice(-KEEP);
    }
    state.owner = {
      name: answer.rep.name,
      email: answer.rep.email,
      role: answer.rep.role,
      assignedAt: answer.assignedAt,
      pool: answer.pool,
      rule: answer.rule,
      strategy: answer.strategy,
      preferred: answer.preferred,
      skipped: answer.skipped,
    };
    state.queued = undefined;
    state.notice = undefined;
    state.stage = why === 'meeting' ? 'meeting' : 'working';
    // Not a sign of life from the lead or the rep: an untouched lead still ends as inactive.
    journal.add(why === 'reassign' ? 'reassigned' : why === 'meeting' ? 'handed-off' : 'assigned', {
      rep: answer.rep.email,
      pool: answer.pool,
      rule: answer.rule,
      strategy: answer.strategy,
      preferred: answer.preferred,
      skipped: answer.skipped,
    });
    // The SLA clocks start at assignment, not when the rep's notice happens to be delivered.
    startSlas(answer.rep, why === 'route');
  }

  function startSlas(rep: TeamMember, reassign: boolean): void {
    stopSlas();
    const start = Date.parse(state.owner!.assignedAt);
    state.slas = clocksFor(slaHost, rep, start, ['first-touch', 'persistence'], { reassign });
  }
  function stopSlas(): void {
    for (const sla of state.slas) if (sla.status === 'pending') sla.status = 'stopped';
    slaScope?.cancel();
    slaScope = undefined;
  }

  let slaScope: CancellationScope | undefined;
  const slaHost: SlaHost = {
    config,
    lead,
    grade: () => state.qualification?.fit.grade,
    touches: () => state.repTouches,
    notice: () => state.notice,
    tell,
    journal,
    // Only waits: the journey's own loop writes the journal, so two loops never flush it at once.
    waitUntil: async (deadline, done) => {
      const stopped = () => done() || reassignFor !== undefined || meetingBooked;
      if (Date.now() < deadline) await waitFor(stopped, deadline);
      return done();
    },
    reassign: (sla) => void (reassignFor ??= sla),
    publish: publishSearchAttributes,
  };

  /** Runs every pending SLA clock of the current owner beside the rep's work, in a scope of their own. */
  function watchSlas(rep: TeamMember): Promise<void> {
    slaScope = new CancellationScope();
    const scope = slaScope;
    return scope
      .run(() => Promise.all(state.slas.filter((s) => s.status === 'pending').map((sla) => watchSla(slaHost, sla, rep))).then(() => undefined))
      .catch((err) => {
        if (!isCancellation(err)) throw err;
      });
  }

  /** The rep's notice runs beside the SLA clocks: a notice that cannot be delivered never stops them. */
  async function noticeRep(rep: TeamMember): Promise<void> {
    const key = sendKey(`rep-notice/${rep.email}`);
    state.notice = { status: 'sending' };
    const firstTouch = state.slas.find((s) => s.kind === 'first-touch');
    try {
      const notice = { key, lead, leadId, rep, firstTouchDue: firstTouch?.due, sender: config.sender, ...(inTask && { at: now() }) };
      const result = await settled({ key, journeyId: leadId, kind: 'rep-notice', recipient: rep.email }, () =>
        inTask
          ? deliverRepNoticeNow(notice).catch((err: unknown) => {
              if (isCancellation(err)) throw err;
              return deliverRepNotice(notice);
            })
          : deliverRepNotice(notice),
      );
      state.notice = { status: result.status, detail: result.detail };
      journal.add(result.status === 'sent' ? 'notified' : 'notice-failed', { rep: rep.email, status: result.status, detail: result.detail });
    } catch (err) {
      // Cancelled with the rest of the outreach: nothing to record, and nothing left unhandled.
      if (!isCancellation(err)) throw err;
    }
  }

  /** The owner works the lead under its SLAs until it moves on: a meeting, a reassignment, an outcome, or silence. */
  async function work(): Promise<void> {
    const rep = ownerMember()!;
    const notice = state.notice ? Promise.resolve() : noticeRep(rep);
    const slas = watchSlas(rep);
    let repliesSeen = state.repliedAt;
    for (;;) {
      const quietUntil = Date.parse(state.lastActivityAt) + inactivityMs;
      state.next = { what: 'ends as inactive unless something happens', dueAt: iso(quietUntil) };
      const moved = () =>
        reassignFor !== undefined || meetingBooked || state.stage !== 'working' || hotLeadAlerts > 0 || state.repliedAt !== repliesSeen || Date.parse(state.lastActivityAt) + inactivityMs > quietUntil;
      const active = await waitUntil(quietUntil, moved);
      if (!active) {
        ending = 'inactive';
        break;
      }
      if (hotLeadAlerts > 0) await alertHotLead(rep);
      if (state.repliedAt !== repliesSeen) {
        repliesSeen = state.repliedAt;
        followUpReply(rep);
      }
      if (reassignFor !== undefined || meetingBooked || state.stage !== 'working') break;
    }
    state.next = undefined;
    await notice;
    if (ending) return;
    if (meetingBooked) return handToFieldSales(rep);
    if (reassignFor !== undefined) return reassign(rep, slas);
    stopSlas();
  }

  /** A reply while a rep works the lead starts the follow-up SLA, on its own clock. */
  function followUpReply(rep: TeamMember): void {
    const clocks = clocksFor(slaHost, rep, Date.parse(state.repliedAt!), ['reply-follow-up'], { reassign: state.previousOwners.length === 0 });
    if (clocks.length === 0) return;
    state.slas = [...state.slas.filter((s) => !(s.kind === 'reply-follow-up' && s.status === 'pending')), ...clocks];
    void (slaScope ?? CancellationScope.current()).run(() => Promise.all(clocks.map((sla) => watchSla(slaHost, sla, rep)))).catch((err) => {
      if (!isCancellation(err)) throw err;
    });
  }

  async function alertHotLead(rep: TeamMember): Promise<void> {
    const n = hotLeadAlerts;
    hotLeadAlerts = 0;
    const clicks = state.behaviour.filter((b) => b.type === 'clicked').length;
    journal.add('hot-lead', { rep: rep.email, clicks });
    await tell(`hot-lead/${rep.email}/${clicks}`, { kind: 'hot-lead', rep, event: n > 1 ? `${n} clicks` : 'a click' }, rep.email);
  }

  /** The SLA's second deadline: the lead goes to the next rep, and both reps and the manager hear. */
  async function reassign(from: TeamMember, slas: Promise<void>): Promise<void> {
    const sla = reassignFor!;
    reassignFor = undefined;
    stopSlas();
    await slas;
    const answer = await assign({ leadId, lead, grade: state.qualification!.fit.grade, purpose: 'route', reassignFrom: from.email, at: now(), snapshot });
    if (answer.status !== 'assigned') {
      // Nobody else can take it: the lead stays with its rep, and the manager was told at the breach.
      const detail = answer.status === 'not-reassigned' ? answer.skipped : answer.status === 'queued' ? `pool ${answer.pool} has no one free` : answer.detail;
      journal.add('reassign-failed', { sla, detail });
      return;
    }
    becomeOwner(answer, 'reassign');
    const manager = managerOf(config, from);
    const message = { kind: 'reassignment' as const, sla, from, to: answer.rep, manager };
    // Each person hears under a key of their own: one failed e-mail never silences the others.
    for (const person of [from, answer.rep, manager]) {
      await tell(`reassigned/${sla}/${from.email}/${person.email}`, { ...message, recipient: person }, person.email);
    }
  }

  /** A meeting is booked: field sales takes the lead with the SDR's notes, and the SDR's SLAs stop. */
  async function handToFieldSales(sdr: TeamMember): Promise<void> {
    meetingBooked = false;
    stopSlas();
    if (!config.routing.meetingPool) {
      journal.add('handed-off', { to: sdr.email, detail: 'no routing.meetingPool: the meeting stays with its owner' });
      state.stage = 'meeting';
      return;
    }
    for (;;) {
      const answer = await assign({ leadId, lead, grade: state.qualification!.fit.grade, purpose: 'meeting', reassignFrom: sdr.email, at: now(), snapshot });
      if (answer.status === 'assigned') {
        becomeOwner(answer, 'meeting');
        for (const sla of state.slas) sla.status = 'stopped';
        const notes = state.deal?.notes;
        await tell(`handoff/${answer.rep.email}`, { kind: 'handoff', from: sdr, to: answer.rep, notes, bant: state.bant, grade: state.qualification?.fit.grade }, answer.rep.email);
        return;
      }
      if (answer.status !== 'queued') throw new Error(answer.status === 'no-pool' ? answer.detail : `no one in ${config.routing.meetingPool} could take the meeting`);
      await waitInQueue(answer);
      state.stage = 'working';
      if (ending) return;
    }
  }

  /** With field sales: a no-show gets the AE a reschedule task (and the lead a reminder), until the deal moves. */
  async function meet(): Promise<void> {
    let handled = 0;
    for (;;) {
      const quietUntil = Date.parse(state.lastActivityAt) + inactivityMs;
      state.next = { what: state.stage === 'meeting' ? 'the meeting, or news of the deal' : 'news of the opportunity', dueAt: iso(quietUntil) };
      const stage = state.stage;
      const active = await waitUntil(quietUntil, () => noShows > handled || state.stage !== stage || hotLeadAlerts > 0 || Date.parse(state.lastActivityAt) + inactivityMs > quietUntil);
      if (!active) return void (ending = 'inactive');
      const owner = ownerMember()!;
      if (hotLeadAlerts > 0) await alertHotLead(owner);
      while (noShows > handled) {
        handled++;
        await rescheduleNoShow(owner, handled);
      }
      if (state.stage !== stage) return;
    }
  }

  async function rescheduleNoShow(owner: TeamMember, n: number): Promise<void> {
    const taskKey = sendKey(`no-show/${n}/task`);
    const note = `${lead.firstName} (${lead.company}) did not show up for the meeting. Most no-shows simply forgot: reach out and reschedule.`;
    const task = await settled({ key: taskKey, journeyId: leadId, kind: 'task', recipient: owner.email }, () =>
      deliverTask({ key: taskKey, journeyId: leadId, owner, contact: lead.email, channel: 'call', at: now(), note, context: cadenceHost.context, sender: config.sender, messageRef: `no-show-${n}` }),
    );
    state.tasks = [...state.tasks, { cadence: 'handoff', stepId: `no-show-${n}`, channel: 'call', owner: owner.email, contact: lead.email, status: 'open' as const, createdAt: now(), notice: task.status }].slice(-KEEP);
    const template = config.journey.noShowReminder;
    if (!template) return;
    // The lead gets a reminder too. It answers a meeting they booked, so it is sent at once, outside windows and limits.
    const key = sendKey(`no-show/${n}/reminder`);
    const result = await settled({ key, journeyId: leadId, kind: 'cadence', recipient: lead.email }, () =>
      deliverTouch({
        key,
        journeyId: leadId,
        channel: 'email',
        to: lead.email,
        contact: lead.email,
        at: now(),
        limits: {},
        template: { name: template, fallback: config.templates[template]! },
        context: { ...cadenceHost.context, owner: { name: owner.name, email: owner.email } },
        unsubscribe: config.unsubscribe,
        unsubscribeId: leadId,
        sender: config.sender,
        messageRef: `no-show-${n}`,
      }),
    );
    journal.add('no-show-handled', { task: task.status, reminder: result.status });
  }

  /** Closed-lost: the rep's lead is freed, and after the cool-off the lead re-enters a long nurture. */
  async function coolOff(): Promise<void> {
    stopSlas();
    await releaseLead({ leadId, reason: 'closed-lost', at: now(), snapshot });
    const recycle = config.journey.recycle!;
    const until = (state.deal?.at ? Date.parse(state.deal.at) : Date.now()) + durationMs(recycle.coolOff);
    state.next = { what: `recycle into ${recycle.cadence}`, dueAt: iso(until) };
    await waitUntil(until, () => false);
    state.next = undefined;
    if (state.owner) state.previousOwners = [...state.previousOwners, { email: state.owner.email, until: now(), why: 'closed-lost' }].slice(-KEEP);
    state.owner = undefined;
    state.slas = [];
    state.stage = 'nurturing';
    state.cadence = startRun(recycle.cadence, Date.now(), input.configVersion);
    journal.add('recycled', { cadence: recycle.cadence, lostReason: state.deal?.lostReason });
  }

  const cadenceHost: CadenceHost = {
    config,
    journeyId: leadId,
    person: { ...lead, timezone: timeZoneFor(lead, config.sending.timezone), country: countryFor(lead) },
    context: {
      lead,
      contact: lead,
      account: { name: lead.company, industry: lead.industry, region: lead.region, employees: lead.employees, country: lead.country, domain: lead.email.split('@')[1] },
      sender: config.sender,
      deal: {},
    },
    unsubscribeId: leadId,
    rotationOffset: 0,
    sendKey,
    sleepUntil: sleeper({
      stop: () => ending !== undefined || raisedHandBy !== undefined || migration !== undefined || historyTooLong(),
      housekeeping,
      busy: () => journal.hasPending,
      wait: waitFor,
    }),
    seen: (type, since) => state.events.some((e) => e.type === type && Date.parse(e.at) >= since),
    // Nurtured leads have no owner: their tasks go to the last owner, else the first SDR.
    taskOwner: () => ownerMember() ?? config.team.find((m) => sameEmail(m.email, state.previousOwners.at(-1)?.email)) ?? membersWithRole(config, 'sdr')[0]!,
    onTouch: (touch) => {
      state.sends = [...state.sends, touch].slice(-KEEP);
    },
    onTask: (task) => {
      state.tasks = [...state.tasks, task].slice(-KEEP);
    },
  };

  /** The nurture (or recycle) cadence, run by the engine until it ends or something stops it at a step boundary. */
  async function nurture(): Promise<void> {
    const run = state.cadence!;
    cadenceHost.context = { ...cadenceHost.context, deal: { lostReason: state.deal?.lostReason } };
    while (run.status !== 'done' && !ending && !raisedHandBy) {
      state.next = undefined;
      await runCadence(cadenceHost, run);
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

  /** The cadence has ended, but a reply (or a sales-ready score) within the reply window still reaches sales. */
  async function awaitReply(): Promise<void> {
    const until = state.replyUntil!;
    state.next = { what: 'a reply to the nurture cadence', dueAt: until };
    if (await waitUntil(Date.parse(until), () => raisedHandBy !== undefined)) return raisedHand();
    ending = 'no-reply';
  }

  /** A nurtured lead that raised its hand goes to sales like an inbound lead. */
  function raisedHand(): void {
    journal.add('raised-hand', { by: raisedHandBy });
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
    for (const sla of state.slas) if (sla.status === 'pending') sla.status = 'stopped';
    if (state.cadence && state.cadence.status !== 'done') Object.assign(state.cadence, { status: 'done', exit: outcome, pending: undefined });
    // The rep's open lead is freed (and the next waiting lead may take the place).
    await releaseLead({ leadId, reason: outcome, at: now(), snapshot });
    // An unsubscribe outlives the journey: every later journey and channel checks the store first.
    if (outcome === 'unsubscribed') {
      await suppressContact({ email: lead.email, channel: 'all', reason: 'unsubscribed', source: 'journey' });
      journal.add('unsubscribed');
    }
    if (outcome === 'disqualified' || outcome === 'closed' || outcome === 'converted' || outcome === 'won' || outcome === 'dropped') journal.add(outcome);
    journal.add('ended', { outcome });
    await housekeeping();
  }

  try {
    await outreach.run(async () => {
      while (!ending) {
        if (state.stage === 'qualifying') qualifyLead();
        else if (state.stage === 'routing' || state.stage === 'queued') await route();
        else if (state.stage === 'working') await work();
        else if (state.stage === 'meeting' || state.stage === 'opportunity') await meet();
        else if (state.stage === 'cooling-off') await coolOff();
        else if (state.stage === 'nurturing') await nurture();
        else if (state.stage === 'awaiting-reply') await awaitReply();
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
