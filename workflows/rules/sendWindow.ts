// When a message to a contact may go out: inside the send windows, on a business day that is not
// a public holiday, all read on the contact's own clock. This runs in Temporal's workflow sandbox,
// so every fact comes in as an argument (no clock, no I/O), and time zones are read with Intl,
// which is deterministic there; offsets are never written by hand, so DST changes come for free.

export interface SendWindow {
  /** Local time 'HH:MM' the window opens. */
  start: string;
  /** Local time 'HH:MM' it closes (not included; '24:00' means midnight). */
  end: string;
}

export interface SendRules {
  /** The contact's IANA time zone, e.g. 'Asia/Seoul'. */
  timeZone: string;
  /** Local times a message may go out; none means any time of day. */
  windows: SendWindow[];
  /** ISO weekdays, 1 = Monday .. 7 = Sunday. */
  businessDays: number[];
  /** Local dates 'YYYY-MM-DD' to skip (the contact's public holidays, see activities/holidays.ts). */
  holidays?: string[];
  /** Optional names of those holidays by date, so a shift can say "Korean Thanksgiving (KR)". */
  holidayNames?: Record<string, string>;
}

export type ShiftReason = 'window' | 'weekend' | 'holiday';

export interface Shift {
  reason: ShiftReason;
  /** Epoch ms the message was to go out before this move. */
  from: number;
  /** Epoch ms it was moved to. */
  to: number;
  /** Why, in words a marketer reads. */
  detail: string;
}

export interface Opening {
  /** The earliest epoch ms at or after the due time at which the message may go out. */
  at: number;
  /** Every move on the way, in order. */
  shifted: Shift[];
}

const DAY = 86_400_000;
const MINUTE = 60_000;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
// Enough for years of holidays; only a contradiction (e.g. every day a holiday) gets this far.
const MAX_MOVES = 10_000;

/** A local clock reading as if it were UTC, in ms: comparable and easy to split into days. */
export type Wall = number;

interface Plan {
  rules: SendRules;
  /** Windows as [start, end) ms after local midnight, by start. */
  windows: { start: number; end: number }[];
  businessDays: Set<number>;
  holidays: Set<string>;
}

interface Move {
  reason: ShiftReason;
  /** The local time to move to. */
  until: Wall;
  /** The weekday or date behind a weekend or holiday move, for its detail. */
  item: string;
}

interface Draft extends Omit<Shift, 'detail'> {
  items: string[];
}

/** The earliest instant >= dueAt at which a message may go out, and every reason it moved. */
export function nextOpening(dueAt: number, rules: SendRules): Opening {
  if (!Number.isFinite(dueAt)) throw new Error(`due time ${dueAt} is not an instant`);
  const plan = planOf(rules);
  const drafts: Draft[] = [];
  let t = dueAt;
  for (let moves = 0; moves < MAX_MOVES; moves++) {
    const move = whyNotAt(wallAt(t, rules.timeZone), plan);
    if (!move) return { at: t, shifted: drafts.map((d) => render(d, plan)) };
    const to = advance(t, move.until, plan);
    record(drafts, { reason: move.reason, from: t, to, items: [move.item] });
    t = to;
  }
  throw new Error(`no send opening within ${MAX_MOVES} moves of ${new Date(dueAt).toISOString()}: check business days and holidays`);
}

// Validate once, up front, so a typo in the config fails loudly instead of never sending.
function planOf(rules: SendRules): Plan {
  formatter(rules.timeZone);
  const businessDays = new Set(rules.businessDays);
  if (businessDays.size === 0) throw new Error('no business days: a message could never go out');
  for (const day of businessDays) {
    if (!Number.isInteger(day) || day < 1 || day > 7) throw new Error(`business day ${day}: expected 1 (Monday) to 7 (Sunday)`);
  }
  for (const date of rules.holidays ?? []) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`holiday "${date}": expected a date such as 2026-09-25`);
  }
  const windows = rules.windows.map(windowOf).sort((a, b) => a.start - b.start);
  return { rules, windows, businessDays, holidays: new Set(rules.holidays ?? []) };
}

function windowOf({ start, end }: SendWindow): { start: number; end: number } {
  const from = minutesOf(start, false);
  const to = minutesOf(end, true);
  if (to <= from) throw new Error(`send window ${start}-${end}: the end must come after the start`);
  return { start: from * MINUTE, end: to * MINUTE };
}

function minutesOf(time: string, mayBeMidnight: boolean): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (match) return Number(match[1]) * 60 + Number(match[2]);
  if (mayBeMidnight && time === '24:00') return 24 * 60;
  throw new Error(`send window time "${time}": expected HH:MM such as 08:00`);
}

/** Why a message may not go out at this local time, and the local time to try next. */
function whyNotAt(wall: Wall, plan: Plan): Move | undefined {
  const midnight = Math.floor(wall / DAY) * DAY;
  const date = new Date(midnight).toISOString().slice(0, 10);
  // The next day is tried at its first window, so skipping a day lands where sending can start.
  const nextDay = midnight + DAY + (plan.windows[0]?.start ?? 0);
  // A holiday names the day better than "weekend" when both are true (Chuseok on a Saturday).
  if (plan.holidays.has(date)) return { reason: 'holiday', until: nextDay, item: date };
  const weekday = isoWeekday(midnight);
  if (!plan.businessDays.has(weekday)) return { reason: 'weekend', until: nextDay, item: WEEKDAYS[weekday - 1]! };
  const time = wall - midnight;
  if (plan.windows.length === 0 || plan.windows.some((w) => w.start <= time && time < w.end)) return undefined;
  const later = plan.windows.find((w) => w.start > time);
  return { reason: 'window', until: later ? midnight + later.start : nextDay, item: '' };
}

// 1970-01-01 was a Thursday (ISO 4).
export function isoWeekday(midnight: Wall): number {
  return ((((Math.floor(midnight / DAY) + 3) % 7) + 7) % 7) + 1;
}

/**
 * The instant the contact's clock first reads `target`, walking forward from `from`. Where the
 * offset changes on the way, stop at the change when the clock jumped past the target (spring
 * forward over a window's start) or went back (fall back: the hour repeats, and may be open
 * again), so the caller looks again from there; otherwise keep walking.
 */
function advance(from: number, target: Wall, plan: Plan): number {
  const zone = plan.rules.timeZone;
  for (let t = from; ; ) {
    const offset = offsetAt(t, zone);
    const guess = target - offset;
    if (offsetAt(guess, zone) === offset) return guess;
    const change = offsetChange(t, guess, offset, zone);
    if (offsetAt(change, zone) < offset || wallAt(change, zone) >= target) return change;
    t = change;
  }
}

/** The first instant in (from, to] whose UTC offset differs from `offset`, by bisection. */
export function offsetChange(from: number, to: number, offset: number, zone: string): number {
  let before = from;
  let after = to;
  while (after - before > 1) {
    const mid = before + Math.floor((after - before) / 2);
    if (offsetAt(mid, zone) === offset) before = mid;
    else after = mid;
  }
  return after;
}

// Consecutive moves for the same reason are one shift to a marketer: Saturday then Sunday is
// "the weekend", and the three days of Chuseok are one holiday.
function record(drafts: Draft[], next: Draft): void {
  const last = drafts[drafts.length - 1];
  if (last && last.reason === next.reason && last.to === next.from) {
    last.to = next.to;
    last.items.push(...next.items);
  } else {
    drafts.push(next);
  }
}

function render({ items, ...shift }: Draft, plan: Plan): Shift {
  const unique = [...new Set(items)];
  if (shift.reason === 'weekend') {
    const days = listOf(unique);
    return { ...shift, detail: unique.length > 1 ? `${days} are not business days` : `${days} is not a business day` };
  }
  if (shift.reason === 'holiday') return { ...shift, detail: holidayDetail(unique, plan.rules.holidayNames ?? {}) };
  const windows = plan.rules.windows.map((w) => `${w.start}-${w.end}`).join(', ');
  return { ...shift, detail: `outside ${windows} ${plan.rules.timeZone}` };
}

// "Korean Thanksgiving (KR) on 2026-09-24, 2026-09-25": dates grouped under their holiday's name.
function holidayDetail(dates: string[], names: Record<string, string>): string {
  const byName = new Map<string, string[]>();
  for (const date of dates) {
    const name = names[date] ?? 'public holiday';
    byName.set(name, [...(byName.get(name) ?? []), date]);
  }
  return [...byName].map(([name, days]) => `${name} on ${days.join(', ')}`).join('; ');
}

function listOf(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : (words[0] ?? '');
}

// Intl formatters are costly to build and the same few zones come back on every call.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    // An empty or missing zone would silently mean the machine's own: refuse it.
    if (typeof timeZone !== 'string' || timeZone.trim() === '') throw new RangeError('no time zone given');
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone "${timeZone}": expected an IANA name such as "Asia/Seoul"`);
    }
    formatters.set(timeZone, format);
  }
  return format;
}

/** What the contact's clock reads at instant t. */
export function wallAt(t: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(t)) parts[part.type] = Number(part.value);
  // Intl stops at seconds; offsets are whole seconds, so the milliseconds carry over unchanged.
  const millis = ((t % 1000) + 1000) % 1000;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + millis;
}

export function offsetAt(t: number, timeZone: string): number {
  return wallAt(t, timeZone) - t;
}

/** Whether a string names a time zone this runtime knows. */
export function isTimeZone(zone: string | undefined): zone is string {
  if (zone === undefined) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

// The most populous zone of each common country: a contact's country says little more, and a
// wrong guess by an hour still lands inside the business day.
const COUNTRY_ZONES: Record<string, string> = {
  AE: 'Asia/Dubai', AR: 'America/Argentina/Buenos_Aires', AT: 'Europe/Vienna', AU: 'Australia/Sydney',
  BE: 'Europe/Brussels', BG: 'Europe/Sofia', BR: 'America/Sao_Paulo', CA: 'America/Toronto',
  CH: 'Europe/Zurich', CL: 'America/Santiago', CN: 'Asia/Shanghai', CO: 'America/Bogota',
  CZ: 'Europe/Prague', DE: 'Europe/Berlin', DK: 'Europe/Copenhagen', EE: 'Europe/Tallinn',
  EG: 'Africa/Cairo', ES: 'Europe/Madrid', FI: 'Europe/Helsinki', FR: 'Europe/Paris',
  GB: 'Europe/London', GR: 'Europe/Athens', HK: 'Asia/Hong_Kong', HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest', ID: 'Asia/Jakarta', IE: 'Europe/Dublin', IL: 'Asia/Jerusalem',
  IN: 'Asia/Kolkata', IT: 'Europe/Rome', JP: 'Asia/Tokyo', KE: 'Africa/Nairobi',
  KR: 'Asia/Seoul', LT: 'Europe/Vilnius', LU: 'Europe/Luxembourg', LV: 'Europe/Riga',
  MX: 'America/Mexico_City', MY: 'Asia/Kuala_Lumpur', NG: 'Africa/Lagos', NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo', NZ: 'Pacific/Auckland', PE: 'America/Lima', PH: 'Asia/Manila',
  PK: 'Asia/Karachi', PL: 'Europe/Warsaw', PT: 'Europe/Lisbon', RO: 'Europe/Bucharest',
  RS: 'Europe/Belgrade', RU: 'Europe/Moscow', SA: 'Asia/Riyadh', SE: 'Europe/Stockholm',
  SG: 'Asia/Singapore', SI: 'Europe/Ljubljana', SK: 'Europe/Bratislava', TH: 'Asia/Bangkok',
  TR: 'Europe/Istanbul', TW: 'Asia/Taipei', UA: 'Europe/Kyiv', US: 'America/New_York',
  VN: 'Asia/Ho_Chi_Minh', ZA: 'Africa/Johannesburg',
};

// Sales regions that split a many-zone country (the example config's 'us-northeast' and
// friends), with the country they belong to so a contradicting country wins.
const REGION_ZONES: Record<string, [country: string, zone: string]> = {
  'us-northeast': ['US', 'America/New_York'],
  'us-east': ['US', 'America/New_York'],
  'us-southeast': ['US', 'America/New_York'],
  'us-midwest': ['US', 'America/Chicago'],
  'us-central': ['US', 'America/Chicago'],
  'us-mountain': ['US', 'America/Denver'],
  'us-west': ['US', 'America/Los_Angeles'],
  'us-pacific': ['US', 'America/Los_Angeles'],
};

/**
 * The time zone to read a contact's clock in: the lead's own if it is a real one, else its sales
 * region's or country's (a two-letter region such as 'kr' counts as a country), else the team's.
 */
export function timeZoneFor(lead: { timezone?: string; country?: string; region?: string }, teamDefault: string): string {
  const own = lead.timezone?.trim();
  if (isTimeZone(own)) return own;
  const country = lead.country?.trim().toUpperCase();
  const region = lead.region?.trim().toLowerCase() ?? '';
  const regional = REGION_ZONES[region];
  if (regional && (!country || country === regional[0])) return regional[1];
  const byCountry = (country && COUNTRY_ZONES[country]) || COUNTRY_ZONES[region.toUpperCase()];
  return byCountry ?? teamDefault;
}

/** The contact's next business day from its first window, after instant t: what "wait: next-business-day" means. */
export function nextBusinessDay(t: number, rules: SendRules): Opening {
  const plan = planOf(rules);
  const wall = wallAt(t, rules.timeZone);
  const tomorrow = Math.floor(wall / DAY) * DAY + DAY + (plan.windows[0]?.start ?? 0);
  return nextOpening(advance(t, tomorrow, plan), rules);
}

/** "2026-03-09T08:00:00-04:00": the instant as the contact's clock reads it, with the offset. */
export function localIso(t: number, timeZone: string): string {
  const wall = wallAt(t, timeZone);
  const offset = Math.round((wall - t) / MINUTE);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(wall).toISOString().slice(0, 19)}${sign}${hhmm}`;
}

/** The country whose public holidays a contact keeps: its own, else its sales region's. */
export function countryFor(person: { country?: string; region?: string }): string | undefined {
  const own = person.country?.trim().toUpperCase();
  if (own && /^[A-Z]{2}$/.test(own)) return own;
  const region = person.region?.trim().toLowerCase() ?? '';
  if (REGION_ZONES[region]) return REGION_ZONES[region][0];
  return /^[a-z]{2}$/.test(region) && COUNTRY_ZONES[region.toUpperCase()] ? region.toUpperCase() : undefined;
}
