// How often one contact may be touched, and how much one mailbox may send, over rolling windows.
// This runs in Temporal's workflow sandbox and in the simulator as well as in the store, so every
// fact comes in as an argument: no clock, no I/O, no node imports.

export interface TouchLimits {
  perContact?: { perDay?: number; perWeek?: number };
  perMailbox?: { perDay?: number };
}

export type TouchDecision = { allowed: true } | { allowed: false; until: number; reason: string };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

interface Limit {
  /** Stable name, so a limit met again on a later pass is described once. */
  id: string;
  max: number;
  window: number;
  touches: number[];
  describe(inWindow: number[]): string;
}

/**
 * Whether a touch at `at` (epoch ms) keeps within `limits`, given the earlier touches of the contact
 * and of the sending mailbox (epoch ms, any order). Windows are rolling and end at the instant
 * looked at: a touch at t counts for the window ending at u when u - window < t <= u, so a perDay
 * limit of 1 with a touch at T is free again at exactly T + 24h.
 *
 * When a limit is exceeded, `until` is the earliest instant at which every limit is met (waiting
 * for one limit can run into another, so this looks again until nothing is exceeded), and `reason`
 * names each limit in the way, in words a marketer reads.
 */
export function touchDecision(at: number, recent: { contact: number[]; mailbox: number[] }, limits: TouchLimits): TouchDecision {
  if (!Number.isFinite(at)) throw new Error(`touch time ${at} is not an instant`);
  const active = limitsOf(recent, limits);
  let until = at;
  const reasons = new Map<string, string>();
  // Each pass moves `until` later to the end of some touch's window (t + window > until), and
  // there are finitely many of those, so this ends; the bound only guards against a bug.
  for (let pass = 0; pass <= active.reduce((n, limit) => n + limit.touches.length, 0) + 1; pass++) {
    let next = until;
    for (const limit of active) {
      // A touch after the instant looked at counts too: another journey's clock read a few
      // milliseconds later when it claimed, and both messages would otherwise leave together.
      const inWindow = limit.touches.filter((t) => t > until - limit.window);
      if (inWindow.length < limit.max) continue;
      if (!reasons.has(limit.id)) reasons.set(limit.id, limit.describe(inWindow));
      // Free once all but max - 1 of them have left the window: the (count - max + 1)-th oldest.
      next = Math.max(next, inWindow[inWindow.length - limit.max]! + limit.window);
    }
    if (next === until) return reasons.size === 0 ? { allowed: true } : { allowed: false, until, reason: [...reasons.values()].join('; ') };
    until = next;
  }
  throw new Error('touch limits did not settle on a time; this is a bug in touchDecision');
}

function limitsOf(recent: { contact: number[]; mailbox: number[] }, limits: TouchLimits): Limit[] {
  const contact = sorted(recent.contact, 'contact');
  const mailbox = sorted(recent.mailbox, 'mailbox');
  const active: Limit[] = [];
  const perDay = maxOf(limits.perContact?.perDay, 'perContact.perDay');
  if (perDay !== undefined) {
    active.push({
      id: 'contact-day',
      max: perDay,
      window: DAY,
      touches: contact,
      describe: (inWindow) => `at most ${touches(perDay)} a day to this contact${lastAt(perDay, inWindow)}`,
    });
  }
  const perWeek = maxOf(limits.perContact?.perWeek, 'perContact.perWeek');
  if (perWeek !== undefined) {
    active.push({
      id: 'contact-week',
      max: perWeek,
      window: WEEK,
      touches: contact,
      describe: (inWindow) => `at most ${touches(perWeek)} a week to this contact${lastAt(perWeek, inWindow)}`,
    });
  }
  const mailboxDay = maxOf(limits.perMailbox?.perDay, 'perMailbox.perDay');
  if (mailboxDay !== undefined) {
    active.push({
      id: 'mailbox-day',
      max: mailboxDay,
      window: DAY,
      touches: mailbox,
      describe: () => `mailbox daily limit of ${mailboxDay} reached`,
    });
  }
  return active;
}

function maxOf(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  // Zero would mean "never", which no amount of waiting satisfies: the config says so, not this.
  if (!Number.isInteger(value) || value < 1) throw new Error(`touch limit ${name} must be a whole number ≥ 1, not ${value}`);
  return value;
}

function sorted(times: number[], whose: string): number[] {
  for (const t of times) {
    if (!Number.isFinite(t)) throw new Error(`an earlier ${whose} touch at ${t} is not an instant`);
  }
  return [...times].sort((a, b) => a - b);
}

const touches = (n: number) => `${n} ${n === 1 ? 'touch' : 'touches'}`;

/** With a limit of one, the touch in the way is the whole story: say when it was. */
function lastAt(max: number, inWindow: number[]): string {
  return max === 1 ? ` (last at ${new Date(inWindow[inWindow.length - 1]!).toISOString()})` : '';
}
