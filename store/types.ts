// What Pipewright's system of record holds: facts that outlive one journey or span many. A journey's
// own progress stays in its workflow; these rows are reached only through activities and the client.
import type { TouchLimits } from '../workflows/rules/touchLimits';

export type { TouchLimits } from '../workflows/rules/touchLimits';

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
export type SendKind = 'rep-notice' | 'escalation' | 'cadence' | 'task';

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
