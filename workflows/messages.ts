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
import type { IcpFit } from './rules/icpFit';

/** The input of journeys started since cadences became data: the version tells them from earlier shapes. */
export const JOURNEY_VERSION = 3;

export interface JourneyInput {
  version: typeof JOURNEY_VERSION;
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

export type Stage = 'qualifying' | 'routing' | 'working' | 'nurturing' | 'awaiting-reply' | 'ended';

/** Why a journey ended: each is terminal, and recorded in the store as the `ended` event. */
export type Outcome = 'unsubscribed' | 'suppressed' | 'bounced' | 'disqualified' | 'closed' | 'converted' | 'no-reply' | 'inactive';

/** How a message of the journey went, as the send ledger settled it. */
export type SendStatus = 'sending' | 'sent' | 'skipped' | 'bounced' | 'failed';

/** An event seen from outside, kept for branch steps ("opened within 3 days"). */
export interface SeenEvent {
  type: string;
  at: string;
  channel?: string;
  outcome?: string;
}

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
  /** Where the lead is in its nurture cadence. */
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
export const meetingBookedSignal = defineSignal('meeting-booked');
export const convertedSignal = defineSignal('converted');
/** Out of office until a date: the cadence stops where it is and picks up then (or at `resumed`). */
export const pausedSignal = defineSignal<[{ until?: string }?]>('paused');
export const resumedSignal = defineSignal('resumed');
export const LEAD_EVENTS = ['touched', 'replied', 'unsubscribed', 'disqualified', 'closed', 'opened', 'clicked', 'meeting-booked', 'converted', 'paused', 'resumed'] as const;
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
