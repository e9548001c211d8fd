// What the outside world can say to a lead's journey, and ask of it. The client imports these
// definitions (not the workflow code) to signal and query journeys by name.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Cadence } from '../config/cadence';
import type { Config, Role } from '../config/schema';
import type { Account } from '../config/account';
import type { Lead } from '../config/lead';
import type { Tier } from '../config/sending';
import type { CadenceRun } from './cadence/run';
import type { TaskRecord, TouchRecord } from './cadence/engine';
import type { Bant, Behaviour } from '../config/qualification';
import type { Strategy } from '../config/routing';
import type { SlaKind } from '../config/sla';
import type { BehaviourEvent, Verdict } from './rules/qualification';

/**
 * The input of journeys started since qualification was weighted and routing moved to the store:
 * the version tells them from earlier shapes, which run their own frozen code. Version 5 asks the
 * store for a rep and sends the rep's notice as local activities, so a lead reaches its rep within
 * the journey's first workflow task; version 4 journeys still running keep regular activities.
 */
export const JOURNEY_VERSION = 5;

export interface JourneyInput {
  version: 4 | typeof JOURNEY_VERSION;
  lead: Lead;
  /** The config as it was when the lead arrived: editing the file never changes a running journey. */
  config: Config;
  /** The stored config version `config` is, when it came from the store (`pipewright config apply`). */
  configVersion?: number;
  /** Where the previous run stopped, when a long journey continued as new. */
  resume?: JourneyState;
}

/** A run continues as new past this many history events, so no journey's history grows without bound. */
export const MAX_HISTORY_EVENTS = 1_000;

export type Stage =
  | 'qualifying'
  | 'routing'
  /** Every rep of the pool is full, away or off hours: assigned the moment one frees up. */
  | 'queued'
  | 'working'
  /** A meeting is booked: the lead is with field sales (an AE). */
  | 'meeting'
  | 'opportunity'
  | 'nurturing'
  | 'awaiting-reply'
  /** Closed-lost: resting before the recycle cadence. */
  | 'cooling-off'
  | 'ended';

/** Why a journey ended: each is terminal, and recorded in the store as the `ended` event. */
export type Outcome = 'unsubscribed' | 'suppressed' | 'bounced' | 'disqualified' | 'dropped' | 'closed' | 'converted' | 'won' | 'no-reply' | 'inactive';

/** How a message of the journey went, as the send ledger settled it. */
export type SendStatus = 'sending' | 'sent' | 'skipped' | 'bounced' | 'failed';

/** An event seen from outside, kept for branch steps ("opened within 3 days"). */
export interface SeenEvent {
  type: string;
  at: string;
  channel?: string;
  outcome?: string;
  by?: string;
}

/** A rep's touch as the rep or CRM reported it; only the owner's count for SLAs. */
export interface RepTouch {
  by?: string;
  channel?: string;
  outcome?: string;
  at: string;
}

/** Who owns the lead, and why the store chose them. */
export interface Ownership {
  name: string;
  email: string;
  role: Role;
  assignedAt: string;
  pool: string;
  rule: string;
  strategy: Strategy;
  /** "account owner of acme.example", when the preferred rep took it. */
  preferred?: string;
  skipped: { rep: string; reason: string }[];
}

/** One rung of an SLA's ladder: its own message under its own idempotency key. */
export interface SlaRung {
  kind: 'reminder' | 'breach' | 'reassign';
  at: string;
  fraction?: number;
  status: 'pending' | 'sent' | 'failed' | 'skipped' | 'not-needed';
  to?: string[];
}

/** One SLA clock on the current owner. */
export interface SlaClock {
  name: string;
  kind: SlaKind;
  owner: string;
  startedAt: string;
  due: string;
  status: 'pending' | 'met' | 'breached' | 'stopped';
  /** persistence: the owner's touches counted so far. */
  touches?: number;
  needed?: number;
  rungs: SlaRung[];
}

export interface Deal {
  stage: 'meeting-booked' | 'no-show' | 'opportunity' | 'won' | 'lost';
  at: string;
  /** The SDR's notes handed to the AE with the meeting. */
  notes?: string;
  lostReason?: string;
}

export interface JourneyState {
  leadId: string;
  email: string;
  stage: Stage;
  outcome?: Outcome;
  endedAt?: string;
  /** Fit grade, interest level, the matrix cell and what it said, with the reasons. */
  qualification?: Verdict;
  /** Behaviour that counts toward interest (the latest 100). */
  behaviour: BehaviourEvent[];
  bant?: Bant;
  /** Inbound or outbound: where the lead came from, or "inbound" once a nurtured lead raised its hand. */
  routedAs?: Lead['source'];
  owner?: Ownership;
  /** Earlier owners, latest last: reassigned at an SLA's second deadline, or handed to an AE. */
  previousOwners: { email: string; until: string; why: string }[];
  /** When the pool was full or away: since when the lead waits, and in which pool. */
  queued?: { pool: string; since: string; position: number; skipped: { rep: string; reason: string }[] };
  /** The rep's e-mail about the new lead; it never holds up the SLA clock. */
  notice?: { status: SendStatus; detail?: string };
  slas: SlaClock[];
  /** The owners' and others' touches (the latest 50). */
  repTouches: RepTouch[];
  deal?: Deal;
  /** Where the lead is in its nurture (or recycle) cadence. */
  cadence?: CadenceRun;
  /** After the cadence: until when a reply still reaches an SDR. */
  replyUntil?: string;
  /** Messages to the lead, in the order they were settled (the latest 50). */
  sends: TouchRecord[];
  /** Manual touches the cadence gave the owner (the latest 50); done when the owner reports that channel's touch. */
  tasks: TaskRecord[];
  /** The latest events from outside, for branches and for `lead show`. */
  events: SeenEvent[];
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

/** What a rep or CRM says about a touch: on which channel, how it went, and who made it. */
export interface TouchDetail {
  channel?: string;
  outcome?: string;
  by?: string;
}

/** Events reps and CRMs send back, by the names the CLI and integrations use. */
export const touchedSignal = defineSignal<[TouchDetail?]>('touched');
export const repliedSignal = defineSignal('replied');
export const unsubscribedSignal = defineSignal('unsubscribed');
export const disqualifiedSignal = defineSignal('disqualified');
export const closedSignal = defineSignal('closed');
export const openedSignal = defineSignal('opened');
export const clickedSignal = defineSignal('clicked');
/** A booked meeting; `notes` are the SDR's, handed to the AE. */
export const meetingBookedSignal = defineSignal<[{ notes?: string }?]>('meeting-booked');
export const convertedSignal = defineSignal('converted');
/** Out of office until a date: the cadence stops where it is and picks up then (or at `resumed`). */
export const pausedSignal = defineSignal<[{ until?: string }?]>('paused');
export const resumedSignal = defineSignal('resumed');
/** Behaviour that only moves the interest score: a page visit, a download, a demo request... */
export const behaviourSignal = defineSignal<[{ type: Behaviour }]>('behaviour');
/** BANT as the SDR recorded it on a call; parts not given keep what was known. */
export const bantSignal = defineSignal<[Bant]>('bant');
/** The meeting did not happen: the owner gets a reschedule task. */
export const noShowSignal = defineSignal('no-show');
export const opportunitySignal = defineSignal<[{ notes?: string }?]>('opportunity');
export const closedWonSignal = defineSignal('closed-won');
export const closedLostSignal = defineSignal<[{ reason?: string }?]>('closed-lost');
/** Sent when a queued lead may now find a rep (a rep came back, a lead closed): ask the store again. */
export const routingChangedSignal = defineSignal('routingChanged');

/** Events that only move the interest score, each by its weight in qualification.interest.weights. */
export const BEHAVIOUR_EVENTS = ['visited', 'downloaded', 'demo-request', 'contact-us', 'pricing-page'] as const satisfies readonly Behaviour[];
export const LEAD_EVENTS = [
  'touched',
  'replied',
  'unsubscribed',
  'disqualified',
  'closed',
  'opened',
  'clicked',
  'meeting-booked',
  'converted',
  'paused',
  'resumed',
  ...BEHAVIOUR_EVENTS,
  'bant',
  'no-show',
  'opportunity',
  'closed-won',
  'closed-lost',
] as const;
export type LeadEvent = (typeof LEAD_EVENTS)[number];

/** Moves a running cadence to a new definition at its next step boundary, mapping steps by id. */
export interface CadenceMigration {
  cadence: string;
  definition: Cadence;
  configVersion: number;
}
export interface MigrationAnswer {
  moved: boolean;
  /** Why not, or from which step to which. */
  detail: string;
}
export const migrateCadenceUpdate = defineUpdate<MigrationAnswer, [CadenceMigration]>('migrateCadence');

export const journeyStateQuery = defineQuery<JourneyState>('state');

/** A lead asks the rotation of one role for the next rep in turn... */
export const repRequestedSignal = defineSignal<[{ leadId: string; reps: string[] }]>('repRequested');
/** ...and the rotation answers the lead with the rep's e-mail. */
export const repAssignedSignal = defineSignal<[{ rep: string }]>('repAssigned');
export const rotationStateQuery = defineQuery<{ role: Role; lastAssigned?: string; assignedThisRun: number }>('rotation');

export function repRotationId(role: Role): string {
  return `rep-rotation-${role}`;
}

/** The input of an account's program. */
export interface ProgramInput {
  version: 1;
  account: Account;
  /** The config as it was when the account was added, like a lead's journey. */
  config: Config;
  configVersion?: number;
  resume?: ProgramState;
}

/** One of the account's contacts in the program. */
export interface ProgramContact {
  email: string;
  name: string;
  run: CadenceRun;
  sends: TouchRecord[];
  tasks: TaskRecord[];
  events: SeenEvent[];
  /** Unsubscribed or disqualified: this contact only, the others go on. */
  stopped?: string;
}

export interface ProgramState {
  programId: string;
  domain: string;
  name: string;
  tier: Tier;
  /** "from the account file", "tiers.rules[1]", "no rule matched". */
  tierReason: string;
  owner?: { name: string; email: string };
  stage: 'assigning' | 'running' | 'ended';
  outcome?: 'completed' | 'handed-over';
  contacts: ProgramContact[];
  /** Who answered, which stopped the program for everyone; `notice` is how the BDR's e-mail went. */
  handover?: { contact: string; event: string; at: string; notice?: string };
  sandbox?: true;
  continuedAsNew: number;
}

/** An event from one contact of an account, reported by a rep or a CRM. */
export interface ContactEvent {
  contact: string;
  type: 'touched' | 'replied' | 'meeting-booked' | 'opened' | 'clicked' | 'unsubscribed' | 'disqualified' | 'paused' | 'resumed';
  channel?: string;
  outcome?: string;
  until?: string;
}
export const CONTACT_EVENTS: ContactEvent['type'][] = ['touched', 'replied', 'meeting-booked', 'opened', 'clicked', 'unsubscribed', 'disqualified', 'paused', 'resumed'];
export const contactEventSignal = defineSignal<[ContactEvent]>('contactEvent');
export const programStateQuery = defineQuery<ProgramState>('program');
