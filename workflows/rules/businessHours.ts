// An SLA clock that runs only in a rep's working hours, read on the rep's own clock. It runs in
// Temporal's workflow sandbox: pure, every fact an argument, time zones read with Intl (never
// hand-made offsets), so DST changes come for free.

import type { WorkingHours } from '../../config/routing';
import { WEEKDAYS } from '../../config/vocabulary';
import { isoWeekday, offsetAt, offsetChange, wallAt } from './sendWindow';

const DAY = 86_400_000;
const MINUTE = 60_000;
// A week with no working time at all can only mean hours that never open (e.g. a window that sits
// inside a DST gap); fail loudly rather than scan forever.
const MAX_IDLE = 14 * DAY;

interface Plan {
  zone: string;
  /** ISO weekdays, 1 = Monday .. 7 = Sunday. */
  days: Set<number>;
  /** Working hours as [start, end) ms after local midnight. */
  start: number;
  end: number;
}

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

// Validated here too: these rules are called with whatever a workflow hands them, not only parsed config.
function planOf(hours: WorkingHours, timeZone: string): Plan {
  const match = HOURS.exec(hours.hours);
  if (!match) throw new Error(`working hours "${hours.hours}": expected local hours such as "09:00-18:00"`);
  const start = (Number(match[1]) * 60 + Number(match[2])) * MINUTE;
  const end = (Number(match[3] ?? match[5]) * 60 + Number(match[4] ?? match[6])) * MINUTE;
  if (end <= start) throw new Error(`working hours "${hours.hours}": expected the hours to end after they start`);
  const days = new Set<number>();
  for (const day of hours.days) {
    const index = WEEKDAYS.indexOf(day);
    if (index < 0) throw new Error(`working day "${day}": expected one of ${WEEKDAYS.join(', ')}`);
    days.add(index + 1);
  }
  if (days.size === 0) throw new Error('no working days: the clock would never run');
  wallAt(0, timeZone); // throws a readable error on an unknown or empty zone
  return { zone: timeZone, days, start, end };
}

function instant(ms: number, what: string): number {
  if (!Number.isFinite(ms)) throw new Error(`${what} ${ms} is not an instant`);
  return ms;
}

/** Whether instant ms falls inside the working hours of a working day, local to timeZone. */
export function isWorkingTime(ms: number, hours: WorkingHours, timeZone: string): boolean {
  const plan = planOf(hours, timeZone);
  const wall = wallAt(instant(ms, 'time'), timeZone);
  const midnight = Math.floor(wall / DAY) * DAY;
  const time = wall - midnight;
  return plan.days.has(isoWeekday(midnight)) && plan.start <= time && time < plan.end;
}

/** The first instant >= ms inside working hours: ms itself when already inside. */
export function nextWorkingTime(ms: number, hours: WorkingHours, timeZone: string): number {
  let found = NaN;
  scan(instant(ms, 'time'), Infinity, planOf(hours, timeZone), (from) => {
    found = from;
    return true;
  });
  return found;
}

/**
 * The instant at which `durationMs` of working time has passed since `startMs` (working time only
 * counts inside hours on working days, local to timeZone; DST-correct). A budget that runs out
 * exactly at closing time ends at closing time, not the next morning; a zero budget ends at once.
 */
export function addWorkingTime(startMs: number, durationMs: number, hours: WorkingHours, timeZone: string): number {
  instant(startMs, 'start');
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new Error(`working time ${durationMs} ms: expected a duration of 0 or more`);
  const plan = planOf(hours, timeZone);
  if (durationMs === 0) return startMs;
  let left = durationMs;
  let done = NaN;
  scan(startMs, Infinity, plan, (from, to) => {
    if (left <= to - from) {
      done = from + left;
      return true;
    }
    left -= to - from;
    return false;
  });
  return done;
}

/** How much working time lies in [fromMs, toMs); 0 when toMs is not after fromMs. */
export function workingTimeBetween(fromMs: number, toMs: number, hours: WorkingHours, timeZone: string): number {
  instant(fromMs, 'from');
  instant(toMs, 'to');
  const plan = planOf(hours, timeZone);
  let total = 0;
  scan(fromMs, toMs, plan, (from, to) => {
    total += to - from;
    return false;
  });
  return total;
}

/**
 * Walks [from, until) one stretch at a time, a stretch being the rest of a local day or up to the
 * next offset change, whichever comes first: inside one, the local clock is the instant plus a
 * fixed offset, so the day's hours map to instants by plain subtraction. Calls `visit` with each
 * non-empty working interval, in order, until it returns true. A fall-back hour that repeats inside
 * the hours counts twice (it is worked twice); a spring-forward gap counts not at all.
 */
function scan(from: number, until: number, plan: Plan, visit: (from: number, to: number) => boolean): void {
  let lastWork = from;
  // Intl is the costly part: the offset seen at one day's end is carried into the next day.
  let known: number | undefined;
  for (let t = from; t < until; ) {
    const offset = known ?? offsetAt(t, plan.zone);
    const midnight = Math.floor((t + offset) / DAY) * DAY;
    const dayEnd = midnight + DAY - offset;
    // Offsets change at most once a day in practice, so checking the day's end is enough to see one.
    const same = offsetAt(dayEnd, plan.zone) === offset;
    const stretchEnd = same ? dayEnd : offsetChange(t, dayEnd, offset, plan.zone);
    known = same ? offset : undefined;
    if (plan.days.has(isoWeekday(midnight))) {
      const open = Math.max(t, midnight + plan.start - offset);
      const close = Math.min(stretchEnd, midnight + plan.end - offset, until);
      if (open < close) {
        if (visit(open, close)) return;
        lastWork = close;
      }
    }
    if (stretchEnd - lastWork > MAX_IDLE) {
      throw new Error(`no working time in the ${MAX_IDLE / DAY} days after ${new Date(lastWork).toISOString()} (${plan.zone}): check the working days and hours`);
    }
    t = stretchEnd;
  }
}
