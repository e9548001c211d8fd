import type { WorkingHours } from '../config/routing';
import { addWorkingTime, isWorkingTime, nextWorkingTime, workingTimeBetween } from '../workflows/rules/businessHours';
import { localIso } from '../workflows/rules/sendWindow';

// Instants are written as local times with their offset, the way a manager would check them.
const at = (local: string) => Date.parse(local);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const NY = 'America/New_York';
const SEOUL = 'Asia/Seoul';
const office: WorkingHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-18:00' };
const always: WorkingHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], hours: '00:00-24:00' };
// In 2026, New York springs forward on Sunday 8 March and falls back on Sunday 1 November.

describe('isWorkingTime', () => {
  test('inside the hours of a working day', () => {
    expect(isWorkingTime(at('2026-03-10T10:00:00-04:00'), office, NY)).toBe(true);
  });

  test('the hours include their opening and exclude their closing', () => {
    expect(isWorkingTime(at('2026-03-10T09:00:00-04:00'), office, NY)).toBe(true);
    expect(isWorkingTime(at('2026-03-10T08:59:59.999-04:00'), office, NY)).toBe(false);
    expect(isWorkingTime(at('2026-03-10T17:59:59.999-04:00'), office, NY)).toBe(true);
    expect(isWorkingTime(at('2026-03-10T18:00:00-04:00'), office, NY)).toBe(false);
  });

  test('a weekend is not working time, whatever the hour', () => {
    expect(isWorkingTime(at('2026-03-07T10:00:00-05:00'), office, NY)).toBe(false);
    expect(isWorkingTime(at('2026-03-08T10:00:00-04:00'), office, NY)).toBe(false);
  });

  test('read on the rep\'s clock: one instant is 10:00 in New York and 23:00 in Seoul', () => {
    const instant = at('2026-03-10T14:00:00Z');
    expect(isWorkingTime(instant, office, NY)).toBe(true);
    expect(isWorkingTime(instant, office, SEOUL)).toBe(false);
  });

  test('"24:00" ends the day at midnight', () => {
    const evenings: WorkingHours = { days: ['tue'], hours: '18:00-24:00' };
    expect(isWorkingTime(at('2026-03-10T23:59:59.999+09:00'), evenings, SEOUL)).toBe(true);
    expect(isWorkingTime(at('2026-03-11T00:00:00+09:00'), evenings, SEOUL)).toBe(false);
  });

  test('the repeated hour of a fall-back night is working time both times round', () => {
    const night: WorkingHours = { days: ['sun'], hours: '00:00-02:00' };
    expect(isWorkingTime(at('2026-11-01T01:30:00-04:00'), night, NY)).toBe(true);
    expect(isWorkingTime(at('2026-11-01T01:30:00-05:00'), night, NY)).toBe(true);
    expect(isWorkingTime(at('2026-11-01T02:00:00-05:00'), night, NY)).toBe(false);
  });
});

describe('nextWorkingTime', () => {
  test('inside the hours it is the instant itself', () => {
    const t = at('2026-03-10T13:37:12.345-04:00');
    expect(nextWorkingTime(t, office, NY)).toBe(t);
  });

  test('before the hours it is the same morning\'s opening', () => {
    expect(localIso(nextWorkingTime(at('2026-03-10T07:00:00-04:00'), office, NY), NY)).toBe('2026-03-10T09:00:00-04:00');
  });

  test('after the hours it is the next morning\'s opening', () => {
    expect(localIso(nextWorkingTime(at('2026-03-10T18:00:00-04:00'), office, NY), NY)).toBe('2026-03-11T09:00:00-04:00');
  });

  test('on a weekend it is Monday\'s opening, on Monday\'s clock across the DST change', () => {
    const monday = nextWorkingTime(at('2026-03-07T12:00:00-05:00'), office, NY);
    expect(localIso(monday, NY)).toBe('2026-03-09T09:00:00-04:00');
    expect(new Date(monday).toISOString()).toBe('2026-03-09T13:00:00.000Z');
  });

  test('working days other than Monday to Friday', () => {
    const sundayToThursday: WorkingHours = { days: ['sun', 'mon', 'tue', 'wed', 'thu'], hours: '08:00-17:00' };
    expect(localIso(nextWorkingTime(at('2026-03-06T10:00:00+04:00'), sundayToThursday, 'Asia/Dubai'), 'Asia/Dubai')).toBe('2026-03-08T08:00:00+04:00');
  });
});

describe('addWorkingTime', () => {
  test('a 5-minute SLA starting Friday 17:58 in New York ends Monday 09:03, after the clocks went forward', () => {
    const due = addWorkingTime(at('2026-03-06T17:58:00-05:00'), 5 * MINUTE, office, NY);
    expect(localIso(due, NY)).toBe('2026-03-09T09:03:00-04:00');
  });

  test('started inside the hours, it runs on the wall clock', () => {
    expect(localIso(addWorkingTime(at('2026-03-10T10:00:00-04:00'), 5 * MINUTE, office, NY), NY)).toBe('2026-03-10T10:05:00-04:00');
  });

  test('started before the hours, it starts at opening', () => {
    expect(localIso(addWorkingTime(at('2026-03-10T07:00:00-04:00'), HOUR, office, NY), NY)).toBe('2026-03-10T10:00:00-04:00');
  });

  test('started after the hours, it starts the next morning', () => {
    expect(localIso(addWorkingTime(at('2026-03-10T20:00:00-04:00'), HOUR, office, NY), NY)).toBe('2026-03-11T10:00:00-04:00');
  });

  test('started on a non-working day, it starts on the next working day', () => {
    expect(localIso(addWorkingTime(at('2026-03-14T11:00:00-04:00'), 30 * MINUTE, office, NY), NY)).toBe('2026-03-16T09:30:00-04:00');
  });

  test('time that runs out exactly at closing ends at closing, not the next morning', () => {
    expect(localIso(addWorkingTime(at('2026-03-10T17:00:00-04:00'), HOUR, office, NY), NY)).toBe('2026-03-10T18:00:00-04:00');
  });

  test('no time at all ends where it starts, even outside the hours', () => {
    const t = at('2026-03-14T11:00:00-04:00');
    expect(addWorkingTime(t, 0, office, NY)).toBe(t);
  });

  test('24 hours of working time is two and two-thirds working days', () => {
    expect(localIso(addWorkingTime(at('2026-03-02T09:00:00-05:00'), 24 * HOUR, office, NY), NY)).toBe('2026-03-04T15:00:00-05:00');
  });

  test('a 7-day persistence window of working time lasts over three calendar weeks', () => {
    // 7 x 24h = 168h = 18 nine-hour days and 6 hours: three weeks, Monday to Wednesday, then Thursday until 15:00.
    const start = at('2026-03-02T09:00:00-05:00');
    const end = addWorkingTime(start, 7 * DAY, office, NY);
    expect(localIso(end, NY)).toBe('2026-03-26T15:00:00-04:00');
    expect(workingTimeBetween(start, end, office, NY)).toBe(7 * DAY);
  });

  test('across the fall-back weekend, Monday\'s hours are on the new clock', () => {
    const due = addWorkingTime(at('2026-10-30T17:00:00-04:00'), 2 * HOUR, office, NY);
    expect(localIso(due, NY)).toBe('2026-11-02T10:00:00-05:00');
    expect(new Date(due).toISOString()).toBe('2026-11-02T15:00:00.000Z');
  });

  test('a fall-back night worked round the clock: two hours from midnight end at the second 01:00', () => {
    expect(localIso(addWorkingTime(at('2026-11-01T00:00:00-04:00'), 2 * HOUR, always, NY), NY)).toBe('2026-11-01T01:00:00-05:00');
  });

  test('Seoul has no DST: Friday 17:30 plus an hour is Monday 09:30', () => {
    expect(localIso(addWorkingTime(at('2026-03-06T17:30:00+09:00'), HOUR, office, SEOUL), SEOUL)).toBe('2026-03-09T09:30:00+09:00');
  });

  test('a year of working time is quick to walk, and agrees with workingTimeBetween', () => {
    const start = at('2026-03-02T09:00:00-05:00');
    const began = Date.now();
    const end = addWorkingTime(start, 365 * DAY, office, NY);
    expect(Date.now() - began).toBeLessThan(2000);
    // 8760h / 9h = 973 working days and 3 hours: about 3.7 years of weekdays.
    expect(localIso(end, NY).slice(0, 4)).toBe('2029');
    expect(workingTimeBetween(start, end, office, NY)).toBe(365 * DAY);
  });

  test('always agrees with workingTimeBetween, from any start, in any season', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const year = at('2026-01-01T00:00:00Z');
    for (let i = 0; i < 200; i++) {
      const start = year + Math.floor(random() * 365 * DAY);
      const duration = Math.floor(random() * 20 * DAY);
      for (const zone of [NY, SEOUL]) {
        const end = addWorkingTime(start, duration, office, zone);
        expect(workingTimeBetween(start, end, office, zone)).toBe(duration);
        expect(duration === 0 || isWorkingTime(end - 1, office, zone)).toBe(true);
      }
    }
  });

  test('refuses a negative duration', () => {
    expect(() => addWorkingTime(0, -1, office, NY)).toThrow(/duration of 0 or more/);
  });
});

describe('workingTimeBetween', () => {
  test('a working week is 45 hours in New York and in Seoul', () => {
    expect(workingTimeBetween(at('2026-03-09T00:00:00-04:00'), at('2026-03-16T00:00:00-04:00'), office, NY)).toBe(45 * HOUR);
    expect(workingTimeBetween(at('2026-03-09T00:00:00+09:00'), at('2026-03-16T00:00:00+09:00'), office, SEOUL)).toBe(45 * HOUR);
  });

  test('only the part inside the hours counts', () => {
    expect(workingTimeBetween(at('2026-03-10T08:00:00-04:00'), at('2026-03-10T09:30:00-04:00'), office, NY)).toBe(30 * MINUTE);
    expect(workingTimeBetween(at('2026-03-06T17:00:00-05:00'), at('2026-03-09T10:00:00-04:00'), office, NY)).toBe(2 * HOUR);
  });

  test('nothing when the span is empty, backwards, or all weekend', () => {
    const t = at('2026-03-10T10:00:00-04:00');
    expect(workingTimeBetween(t, t, office, NY)).toBe(0);
    expect(workingTimeBetween(t + HOUR, t, office, NY)).toBe(0);
    expect(workingTimeBetween(at('2026-03-07T00:00:00-05:00'), at('2026-03-09T00:00:00-04:00'), office, NY)).toBe(0);
  });

  test('a DST week, round the clock: the spring-forward day has 23 hours, the fall-back day 25', () => {
    expect(workingTimeBetween(at('2026-03-08T00:00:00-05:00'), at('2026-03-09T00:00:00-04:00'), always, NY)).toBe(23 * HOUR);
    expect(workingTimeBetween(at('2026-03-02T00:00:00-05:00'), at('2026-03-09T00:00:00-04:00'), always, NY)).toBe(7 * 24 * HOUR - HOUR);
    expect(workingTimeBetween(at('2026-11-01T00:00:00-04:00'), at('2026-11-02T00:00:00-05:00'), always, NY)).toBe(25 * HOUR);
    expect(workingTimeBetween(at('2026-03-02T00:00:00+09:00'), at('2026-03-09T00:00:00+09:00'), always, SEOUL)).toBe(7 * 24 * HOUR);
  });

  test('hours that straddle the DST change: the skipped hour is not worked, the repeated one is worked twice', () => {
    const night: WorkingHours = { days: ['sun'], hours: '01:00-03:00' };
    expect(workingTimeBetween(at('2026-03-08T00:00:00-05:00'), at('2026-03-09T00:00:00-04:00'), night, NY)).toBe(HOUR);
    expect(workingTimeBetween(at('2026-11-01T00:00:00-04:00'), at('2026-11-02T00:00:00-05:00'), night, NY)).toBe(3 * HOUR);
  });
});

describe('working hours that cannot be used', () => {
  test('are refused with a reason', () => {
    const t = at('2026-03-10T10:00:00-04:00');
    expect(() => isWorkingTime(t, { days: ['mon'], hours: '18:00-09:00' }, NY)).toThrow(/end after they start/);
    expect(() => isWorkingTime(t, { days: ['mon'], hours: '09:00-24:30' }, NY)).toThrow(/expected local hours/);
    expect(() => isWorkingTime(t, { days: [], hours: '09:00-18:00' }, NY)).toThrow(/no working days/);
    expect(() => isWorkingTime(t, office, 'Mars/Olympus_Mons')).toThrow(/unknown time zone/);
    expect(() => nextWorkingTime(NaN, office, NY)).toThrow(/not an instant/);
  });
});
