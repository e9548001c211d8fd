// What Pipewright's system of record holds: facts that outlive one journey or span many. A journey's
// own progress stays in its workflow; these rows are reached only through activities and the client.
import type { Strategy } from '../config/routing';
import type { Candidate, Skip } from '../workflows/rules/routing';
import type { TouchLimits } from '../workflows/rules/touchLimits';

export type { TouchLimits } from '../workflows/rules/touchLimits';
export type { Strategy } from '../config/routing';
export type { Candidate, Skip, TurnState } from '../workflows/rules/routing';

/** A suppression per channel; "all" stops every channel at once (an unsubscribe link does that). */
export const SUPPRESSION_CHANNELS = ['email', 'sms', 'all'] as const;
export type SuppressionChannel = (typeof SUPPRESSION_CHANNELS)[number];
/** The channels a message actually goes out on. */
export type Channel = Exclude<SuppressionChannel, 'all'>;

export interface Suppression {
  email: string;
  channel: SuppressionChannel;
  /** Why, in words a person reads: "unsubscribed", "bounced: 550 no such user", "asked by phone". */
  reason: string;
  /** Where it came from: "link", "cli", "api", "journey", "bounce". */
  source: string;
  createdAt: Date;
}

/** A number that texted an opt-out keyword: no SMS to it until it texts START. */
export interface SmsOptOut {
  /** E.164. */
  phone: string;
  /** What they texted, upper case: STOP, UNSUBSCRIBE, ... */
  keyword: string;
  createdAt: Date;
}

/** A journey that texted a number, and the contact it texted. */
export interface SmsConversation {
  journeyId: string;
  contact: string;
}

export interface Contact {
  email: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One row per intended touch, keyed by an idempotency key derived from the journey and the step
 * (never the attempt). `sending` means the intent is recorded and the outcome not yet known;
 * `deferred` means a touch limit held it back until `deferredUntil`, and it is to be claimed again then.
 */
export const SEND_STATUSES = ['sending', 'deferred', 'sent', 'skipped', 'bounced', 'failed'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

/** What a message is, for reports and for `contact show`. */
export type SendKind = 'rep-notice' | 'escalation' | 'cadence' | 'task' | 'sla-reminder' | 'reassignment' | 'queued' | 'hot-lead' | 'handoff' | 'digest';

/** What a sender says before it sends: the key and whom the message is for. */
export interface SendIntent {
  key: string;
  journeyId: string;
  kind: SendKind;
  channel: Channel;
  recipient: string;
  messageId?: string;
}

/**
 * A message to a contact under touch limits: the contact's e-mail (whatever the channel), the
 * sending mailbox when it has a limit of its own, and the journey's own clock reading for the touch.
 */
export interface TouchIntent extends SendIntent {
  contact: string;
  mailbox?: string;
  at: Date;
  limits: TouchLimits;
}

export interface SendRecord {
  key: string;
  journeyId: string;
  kind: SendKind;
  channel: Channel;
  recipient: string;
  status: SendStatus;
  /** Attempts that reached the send: 1 on the first, more when the activity was retried. */
  attempts: number;
  /** The reason for skipped, bounced or failed; the last transient error while sending. */
  detail?: string;
  messageId?: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
  /** Whose touch this is (the contact's e-mail), for a message claimed under touch limits. */
  contact?: string;
  /** The mailbox it is sent from, when that mailbox has a limit of its own. */
  mailbox?: string;
  /** When the touch happened on the journey's own clock; set when it was allowed ('sending' onwards). */
  touchAt?: Date;
  /** While 'deferred': the earliest instant every touch limit allows it; `detail` says which limits. */
  deferredUntil?: Date;
}

export const JOURNEY_EVENT_TYPES = [
  'assigned',
  'notified',
  'notice-failed',
  'touched',
  'sla-met',
  'sla-breached',
  'escalated',
  'deferred',
  'sent',
  'skipped',
  'bounced',
  'failed',
  'replied',
  'meeting-booked',
  'converted',
  'paused',
  'resumed',
  'opened',
  'clicked',
  'migrated',
  'qualified',
  'requalified',
  'raised-hand',
  'dropped',
  'queued',
  'reassigned',
  'reassign-failed',
  'handed-off',
  'sla-reminded',
  'hot-lead',
  'bant',
  'no-show',
  'no-show-handled',
  'opportunity',
  'won',
  'lost',
  'recycled',
  'unsubscribed',
  'disqualified',
  'closed',
  'ended',
] as const;
export type JourneyEventType = (typeof JOURNEY_EVENT_TYPES)[number];

export interface JourneyEvent {
  /** Unique per event, so recording the same event twice (a retried activity) stores it once. */
  key: string;
  journeyId: string;
  type: JourneyEventType;
  at: Date;
  detail?: Record<string, unknown>;
}

/** One distinct config text, as applied: the YAML and what it validated to. */
export interface ConfigVersion {
  version: number;
  config: unknown;
  source: string;
  createdAt: Date;
}

/** The config in force: the version of the newest activation. */
export interface ActiveConfig {
  version: number;
  config: unknown;
  source: string;
  activatedAt: Date;
}

/** One activation, for `config history`. */
export interface ConfigActivation {
  version: number;
  activatedAt: Date;
  activatedBy?: string;
  sha256: string;
}

/** Who owns a lead, through which rule and pool, and why that rep: one row per hand-over. */
export const ASSIGNMENT_STATUSES = ['open', 'closed', 'reassigned'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

/** Why a lead went where it went, as `lead show` tells it. */
export interface AssignmentWhy {
  rule: string;
  pool: string;
  strategy: Strategy;
  /** Set when the preferred rep (the account owner) got the lead: the caller's reason, e.g. "owns acme.com". */
  preferred?: string;
  /** Everyone passed over, and why. */
  skipped: Skip[];
}

export interface Assignment {
  leadId: string;
  rep: string;
  pool: string;
  rule: string;
  strategy: Strategy;
  /** At most one 'open' assignment per lead; 'reassigned' when an SLA took it to another rep. */
  status: AssignmentStatus;
  /** On the journey's clock (AssignRequest.now). */
  assignedAt: Date;
  closedAt?: Date;
  closeReason?: string;
  why: AssignmentWhy;
}

export interface AssignRequest {
  leadId: string;
  pool: string;
  rule: string;
  strategy: Strategy;
  /** The pool's members from the active config, in config order, defaults filled in. */
  candidates: Candidate[];
  /** The journey's clock: eligibility is weighed at this instant and the assignment dated by it. */
  now: Date;
  respectWorkingHours: boolean;
  /** Account owner first: tried before the pool's strategy when eligible (same eligibility checks); `why` records it. */
  preferred?: { rep: Candidate; why: string };
  /** Reassignment at an SLA's second deadline: close the lead's open assignment to this rep (status 'reassigned') and pick anyone else. */
  reassignFrom?: string;
}

export type AssignResult =
  | {
      status: 'assigned';
      assignment: Assignment;
      /** false: the lead already had this open assignment (nothing was written). */
      created: boolean;
      /** A reassignment that found nobody else eligible: the lead stays with its owner, and these say why. */
      notReassigned?: Skip[];
    }
  | { status: 'queued'; pool: string; position: number; skipped: Skip[]; newlyQueued: boolean };

/** A lead waiting for a rep in its pool; position 1 is served first. */
export interface QueuedLead {
  leadId: string;
  pool: string;
  queuedAt: Date;
  position: number;
}

export interface AwayRep {
  email: string;
  until: Date;
  note?: string;
}
