// The lead journey as it ran before the store existed (journey input without `version`). Frozen:
// journeys started then may still be running, and their histories must replay on exactly this code.
// New journeys run workflows/journey.ts. Only imports and names changed from the original.
import {
  CancellationScope,
  condition,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../config/duration';
import type { Lead } from '../../config/lead';
import type { Role, TeamMember } from '../../config/schema';
import type { ConfigV2 as Config } from './configV2';
import { repAssignedSignal, repliedSignal, touchedSignal, unsubscribedSignal } from '../messages';
import { icpFit, type IcpFit } from './icpFit';
import { managerOf, memberByEmail, membersWithRole, roleFor } from '../rules/team';

export interface JourneyInputV1 {
  lead: Lead;
  config: Config;
}

interface JourneyState {
  leadId: string;
  email: string;
  stage: 'qualifying' | 'working' | 'nurturing' | 'nurture-complete' | 'unsubscribed';
  qualification?: IcpFit;
  owner?: { name: string; email: string; role: Role; assignedAt: string };
  sla?: { kind: 'first-touch'; due: string; status: 'pending' | 'met' | 'breached' | 'stopped'; escalatedTo?: string };
  touches: { cadence: 'nurture'; step: number; subject: string; sentAt: string }[];
  next?: { what: string; dueAt: string };
  firstTouchAt?: string;
  repliedAt?: string;
  unsubscribedAt?: string;
}

const journeyStateQuery = defineQuery<JourneyState>('state');

const { requestRep, notifyRep, escalateSlaBreach, sendCadenceEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // An SMTP outage must delay mail, not lose it: keep retrying, but no faster than every 5 minutes.
  retry: { maximumInterval: '5 minutes' },
});

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One lead's journey: qualify by ICP fit, then either hand the lead to the next rep in turn under a
 * first-touch SLA, or nurture it by e-mail until it replies. An unsubscribe stops everything at once.
 */
export async function leadJourneyV1({ lead, config }: JourneyInputV1): Promise<JourneyState> {
  const leadId = workflowInfo().workflowId;
  const state: JourneyState = { leadId, email: lead.email, stage: 'qualifying', touches: [] };
  // Everything that reaches out runs in this scope, so one cancel stops every timer and send.
  const outreach = new CancellationScope();

  let assignedRep: string | undefined;

  setHandler(journeyStateQuery, () => state);
  setHandler(repAssignedSignal, ({ rep }) => {
    assignedRep ??= rep;
  });
  // Only the owner's touch counts: a touch reported before anyone owns the lead meets no SLA.
  setHandler(touchedSignal, () => {
    if (state.owner) state.firstTouchAt ??= iso(Date.now());
  });
  setHandler(repliedSignal, () => {
    state.repliedAt ??= iso(Date.now());
  });
  setHandler(unsubscribedSignal, () => {
    if (state.stage === 'unsubscribed' || state.stage === 'nurture-complete') return;
    state.stage = 'unsubscribed';
    state.unsubscribedAt = iso(Date.now());
    state.next = undefined;
    if (state.sla?.status === 'pending') state.sla.status = 'stopped';
    outreach.cancel();
  });

  async function workWithRep(source: 'inbound' | 'outbound'): Promise<void> {
    const role = roleFor(source);
    await requestRep({ role, reps: membersWithRole(config, role).map((m) => m.email), leadId });
    await condition(() => assignedRep !== undefined);
    const rep = memberByEmail(config, assignedRep!);
    state.stage = 'working';
    state.owner = { name: rep.name, email: rep.email, role, assignedAt: iso(Date.now()) };

    const sla = config.sla.firstTouch[source];
    if (!sla) {
      await notifyRep({ lead, leadId, rep, sender: config.sender });
      return;
    }
    // The SLA clock starts at assignment, not when the notification happens to be delivered.
    const due = Date.now() + durationMs(sla);
    state.sla = { kind: 'first-touch', due: iso(due), status: 'pending' };
    state.next = { what: `first touch by ${rep.name}`, dueAt: iso(due) };
    await notifyRep({ lead, leadId, rep, firstTouchDue: iso(due), sender: config.sender });
    const touchedInTime = await condition(() => state.firstTouchAt !== undefined, Math.max(0, due - Date.now()));
    state.next = undefined;
    if (touchedInTime) {
      state.sla.status = 'met';
      return;
    }
    state.sla.status = 'breached';
    await escalate(rep, due);
  }

  async function escalate(rep: TeamMember, due: number): Promise<void> {
    const manager = managerOf(config, rep);
    await escalateSlaBreach({ lead, leadId, rep, manager, due: iso(due), lateMs: Date.now() - due, sender: config.sender });
    state.sla!.escalatedTo = manager.email;
  }

  /** Sends the nurture cadence; true when the lead replied and should go to a rep. */
  async function nurture(): Promise<boolean> {
    state.stage = 'nurturing';
    const steps = config.cadences.nurture.steps;
    // Steps are due at fixed offsets from the cadence's start, so slow sends never push later
    // steps back: day 0, 3 and 7 stay day 0, 3 and 7.
    let dueAt = Date.now();
    for (const [index, step] of steps.entries()) {
      dueAt += durationMs(step.wait);
      state.next = { what: `nurture e-mail ${index + 1} of ${steps.length}`, dueAt: iso(dueAt) };
      if (await condition(() => state.repliedAt !== undefined, Math.max(0, dueAt - Date.now()))) return true;
      const { subject } = await sendCadenceEmail({
        lead,
        leadId,
        cadence: 'nurture',
        stepIndex: index,
        step,
        sender: config.sender,
        unsubscribe: config.unsubscribe,
      });
      state.touches.push({ cadence: 'nurture', step: index + 1, subject, sentAt: iso(Date.now()) });
    }
    state.next = undefined;
    state.stage = 'nurture-complete';
    return false;
  }

  try {
    await outreach.run(async () => {
      state.qualification = icpFit(lead, config.icp);
      if (state.qualification.fits) {
        await workWithRep(lead.source);
      } else if (await nurture()) {
        // A nurtured lead that replies has raised its hand: it goes to an SDR like any inbound lead.
        await workWithRep('inbound');
      }
    });
    // A lead with a rep stays open for the rep's and the CRM's events until it unsubscribes.
    if (state.stage === 'working') await condition(() => state.stage === 'unsubscribed');
  } catch (err) {
    if (!(isCancellation(err) && state.stage === 'unsubscribed')) throw err;
  }
  return state;
}
