// What Pipewright's system of record holds: facts that outlive one journey or span many. A journey's
// own progress stays in its workflow; these rows are reached only through activities and the client.

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
 * (never the attempt). `sending` means the intent is recorded and the outcome not yet known.
 */
export const SEND_STATUSES = ['sending', 'sent', 'skipped', 'bounced', 'failed'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

/** What a message is, for reports and for `contact show`. */
export type SendKind = 'rep-notice' | 'escalation' | 'cadence';

/** What a sender says before it sends: the key and whom the message is for. */
export interface SendIntent {
  key: string;
  journeyId: string;
  kind: SendKind;
  channel: Channel;
  recipient: string;
  messageId?: string;
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
}

export const JOURNEY_EVENT_TYPES = [
  'assigned',
  'notified',
  'notice-failed',
  'touched',
  'sla-met',
  'sla-breached',
  'escalated',
  'sent',
  'skipped',
  'bounced',
  'failed',
  'replied',
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
