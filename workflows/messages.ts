// What the outside world can say to a lead's journey, and ask of it. The client imports these
// definitions (not the workflow code) to signal and query journeys by name.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Config, Role } from '../config/schema';
import type { Lead } from '../config/lead';
import type { IcpFit } from './rules/icpFit';

/** The input of journeys started since the store: the version tells them from the first shape. */
export const JOURNEY_VERSION = 2;

export interface JourneyInput {
  version: typeof JOURNEY_VERSION;
  lead: Lead;
  /** The config as it was when the lead arrived: editing the file never changes a running journey. */
  config: Config;
  /** Where the previous run stopped, when a long journey continued as new. */
  resume?: JourneyState;
}

/** A run continues as new past this many history events, so no journey's history grows without bound. */
export const MAX_HISTORY_EVENTS = 1_000;

export type Stage = 'qualifying' | 'routing' | 'working' | 'nurturing' | 'awaiting-reply' | 'ended';

/** Why a journey ended: each is terminal, and recorded in the store as the `ended` event. */
export type Outcome = 'unsubscribed' | 'suppressed' | 'bounced' | 'disqualified' | 'closed' | 'no-reply' | 'inactive';

/** How a message of the journey went, as the send ledger settled it. */
export type SendStatus = 'sending' | 'sent' | 'skipped' | 'bounced' | 'failed';

export interface JourneyState {
  leadId: string;
  email: string;
  stage: Stage;
  outcome?: Outcome;
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
  /** Where the nurture cadence is: the next step (0-based) and when it is due. */
  nurture?: { nextStep: number; nextDueAt: string; replyUntil?: string };
  /** Messages to the lead, in the order they were settled. */
  sends: { cadence: 'nurture'; step: number; subject: string; status: SendStatus; detail?: string; at: string }[];
  next?: { what: string; dueAt: string };
  /** When the owner first touched the lead (call, e-mail, social), as the rep or CRM reported it. */
  firstTouchAt?: string;
  /** The last sign of life from either side: the journey ends after `journey.endAfterInactivity` of none. */
  lastActivityAt: string;
  repliedAt?: string;
  unsubscribedAt?: string;
  /** Runs before this one: long journeys continue as new so no history grows without bound. */
  continuedAsNew: number;
}

/** Events reps and CRMs send back, by the names the CLI and integrations use. */
export const touchedSignal = defineSignal('touched');
export const repliedSignal = defineSignal('replied');
export const unsubscribedSignal = defineSignal('unsubscribed');
export const disqualifiedSignal = defineSignal('disqualified');
export const closedSignal = defineSignal('closed');
export const LEAD_EVENTS = ['touched', 'replied', 'unsubscribed', 'disqualified', 'closed'] as const;
export type LeadEvent = (typeof LEAD_EVENTS)[number];

export const journeyStateQuery = defineQuery<JourneyState>('state');

/** A lead asks the rotation of one role for the next rep in turn... */
export const repRequestedSignal = defineSignal<[{ leadId: string; reps: string[] }]>('repRequested');
/** ...and the rotation answers the lead with the rep's e-mail. */
export const repAssignedSignal = defineSignal<[{ rep: string }]>('repAssigned');
export const rotationStateQuery = defineQuery<{ role: Role; lastAssigned?: string; assignedThisRun: number }>('rotation');

export function repRotationId(role: Role): string {
  return `rep-rotation-${role}`;
}
