import { holidayNamesFor, holidaysFor } from '../activities/holidays';
import { nextOpening, timeZoneFor, type SendRules } from '../workflows/rules/sendWindow';

// Instants are written as local times with their offset, the way a marketer would check them.
const at = (local: string) => Date.parse(local);
const iso = (ms: number) => new Date(ms).toISOString();

// The example config's e-mail windows (DOMAIN.md: 08:00-10:00 and 15:00-16:00, local time).
const seoul: SendRules = {
  timeZone: 'Asia/Seoul',
  windows: [
    { start: '08:00', end: '10:00' },
    { start: '15:00', end: '16:00' },
  ],
  businessDays: [1, 2, 3, 4, 5],
};
const everyDay = [1, 2, 3, 4, 5, 6, 7];

describe('send windows', () => {
  test('an e-mail due at 23:00 Seoul time goes out at 08:00 the next morning', () => {
    const due = at('2026-03-10T23:00:00+09:00');
    expect(nextOpening(due, seoul)).toEqual({
      at: at('2026-03-11T08:00:00+09:00'),
      shifted: [{ reason: 'window', from: due, to: at('2026-03-11T08:00:00+09:00'), detail: 'outside 08:00-10:00, 15:00-16:00 Asia/Seoul' }],
    });
  });

  test('an e-mail due inside a window goes out at once', () => {
    const due = at('2026-03-10T09:59:59.999+09:00');
    expect(nextOpening(due, seoul)).toEqual({ at: due, shifted: [] });
  });

  test('a window closes at its end, and the e-mail waits for the afternoon window', () => {
    expect(iso(nextOpening(at('2026-03-10T10:00:00+09:00'), seoul).at)).toBe(iso(at('2026-03-10T15:00:00+09:00')));
    expect(iso(nextOpening(at('2026-03-10T16:00:00+09:00'), seoul).at)).toBe(iso(at('2026-03-11T08:00:00+09:00')));
  });

  test('the windows are read on the contact\'s clock, not the server\'s', () => {
    // 09:00 in Seoul is 00:00 UTC: inside the window for a Seoul contact.
    expect(nextOpening(at('2026-03-10T00:00:00Z'), seoul).shifted).toEqual([]);
  });

  test('no windows means any time of a business day', () => {
    const due = at('2026-03-10T03:17:00+09:00');
    expect(nextOpening(due, { ...seoul, windows: [] })).toEqual({ at: due, shifted: [] });
  });
});

describe('business days', () => {
  test('a step due on Saturday moves to Monday 08:00 and says weekend', () => {
    const due = at('2026-03-14T11:00:00+09:00');
    expect(nextOpening(due, seoul)).toEqual({
      at: at('2026-03-16T08:00:00+09:00'),
      shifted: [{ reason: 'weekend', from: due, to: at('2026-03-16T08:00:00+09:00'), detail: 'Saturday and Sunday are not business days' }],
    });
  });

  test('a step due late on Friday misses the window first, then the weekend', () => {
    const { at: sent, shifted } = nextOpening(at('2026-03-13T21:00:00+09:00'), seoul);
    expect(iso(sent)).toBe(iso(at('2026-03-16T08:00:00+09:00')));
    expect(shifted.map((s) => [s.reason, iso(s.from), iso(s.to)])).toEqual([
      ['window', iso(at('2026-03-13T21:00:00+09:00')), iso(at('2026-03-14T08:00:00+09:00'))],
      ['weekend', iso(at('2026-03-14T08:00:00+09:00')), iso(at('2026-03-16T08:00:00+09:00'))],
    ]);
  });
});

describe('public holidays', () => {
  const korea: SendRules = { ...seoul, holidays: holidaysFor('KR', [2026]), holidayNames: holidayNamesFor('KR', [2026]) };

  test("Chuseok moves a Korean contact's e-mail past the holiday", () => {
    // Chuseok 2026 is Thursday 24 to Saturday 26 September; Monday 28 is the next working morning.
    const { at: sent, shifted } = nextOpening(at('2026-09-23T16:30:00+09:00'), korea);
    expect(iso(sent)).toBe(iso(at('2026-09-28T08:00:00+09:00')));
    expect(shifted.map((s) => [s.reason, s.detail])).toEqual([
      ['window', 'outside 08:00-10:00, 15:00-16:00 Asia/Seoul'],
      ['holiday', 'Korean Thanksgiving (KR) on 2026-09-24, 2026-09-25, 2026-09-26'],
      ['weekend', 'Sunday is not a business day'],
    ]);
  });

  test('a holiday without a name still says which day it was', () => {
    const { shifted } = nextOpening(at('2026-05-05T09:00:00+09:00'), { ...seoul, holidays: ['2026-05-05'] });
    expect(shifted).toEqual([
      { reason: 'holiday', from: at('2026-05-05T09:00:00+09:00'), to: at('2026-05-06T08:00:00+09:00'), detail: 'public holiday on 2026-05-05' },
    ]);
  });

  test('only public holidays count: observances are working days', () => {
    const us = holidaysFor('US', [2026]);
    expect(us).toEqual(expect.arrayContaining(['2026-07-03', '2026-07-04', '2026-11-26', '2026-12-25']));
    expect(us).not.toContain('2026-02-14'); // Valentine's Day
    expect(holidaysFor('kr', [2026, 2027])).toEqual(expect.arrayContaining(['2026-09-25', '2027-02-07']));
    expect(holidaysFor('ZZ', [2026])).toEqual([]);
  });
});

describe('daylight saving time', () => {
  const losAngeles: SendRules = { timeZone: 'America/Los_Angeles', windows: [{ start: '08:00', end: '10:00' }], businessDays: everyDay };

  test("a Los Angeles contact's 08:00 window holds across the DST change", () => {
    // Spring forward on Sunday 2026-03-08: 08:00 is 16:00 UTC the day before, 15:00 UTC on the day.
    expect(iso(nextOpening(at('2026-03-07T20:00:00-08:00'), losAngeles).at)).toBe('2026-03-08T15:00:00.000Z');
    // Fall back on Sunday 2026-11-01: 08:00 is 15:00 UTC the day before, 16:00 UTC on the day.
    expect(iso(nextOpening(at('2026-10-31T20:00:00-07:00'), losAngeles).at)).toBe('2026-11-01T16:00:00.000Z');
    // And over a weekend: Friday evening before the change to Monday 08:00 after it.
    const weekdays = { ...losAngeles, businessDays: [1, 2, 3, 4, 5] };
    expect(iso(nextOpening(at('2026-03-06T17:00:00-08:00'), weekdays).at)).toBe('2026-03-09T15:00:00.000Z');
  });

  test('a 01:30-02:30 window on the spring-forward day closes when the clock jumps from 02:00 to 03:00', () => {
    const night = { ...losAngeles, windows: [{ start: '01:30', end: '02:30' }] };
    expect(iso(nextOpening(at('2026-03-08T00:00:00-08:00'), night).at)).toBe(iso(at('2026-03-08T01:30:00-08:00')));
    const lastMoment = at('2026-03-08T01:59:59-08:00');
    expect(nextOpening(lastMoment, night).at).toBe(lastMoment);
    // 03:00 PDT comes right after 01:59:59 PST: the window is over until tomorrow night.
    expect(iso(nextOpening(at('2026-03-08T03:00:00-07:00'), night).at)).toBe(iso(at('2026-03-09T01:30:00-07:00')));
  });

  test('a window starting inside the skipped hour opens when the clock jumps into it', () => {
    const early = { ...losAngeles, windows: [{ start: '02:15', end: '04:00' }] };
    expect(iso(nextOpening(at('2026-03-08T00:30:00-08:00'), early).at)).toBe(iso(at('2026-03-08T03:00:00-07:00')));
    // A window wholly inside the skipped hour does not exist that day: one shift to the next night.
    const lost = { ...losAngeles, windows: [{ start: '02:10', end: '02:40' }] };
    const { at: sent, shifted } = nextOpening(at('2026-03-08T00:00:00-08:00'), lost);
    expect(iso(sent)).toBe(iso(at('2026-03-09T02:10:00-07:00')));
    expect(shifted.map((s) => s.reason)).toEqual(['window']);
  });

  test('the repeated hour when clocks fall back is open both times', () => {
    const repeat = { ...losAngeles, windows: [{ start: '01:00', end: '01:30' }] };
    // 01:10 PST is the second time the clock reads 01:10 that night.
    const second = at('2026-11-01T01:10:00-08:00');
    expect(nextOpening(second, repeat).at).toBe(second);
    // Missed at 01:45 PDT, the clock reads 01:00 again fifteen minutes later.
    expect(iso(nextOpening(at('2026-11-01T01:45:00-07:00'), repeat).at)).toBe(iso(at('2026-11-01T01:00:00-08:00')));
  });
});

describe('rules that could never send are refused', () => {
  test.each([
    ['a time zone that does not exist', { ...seoul, timeZone: 'Mars/Olympus' }, 'unknown time zone "Mars/Olympus"'],
    ['no business days', { ...seoul, businessDays: [] }, 'no business days'],
    ['a weekday that is not 1-7', { ...seoul, businessDays: [0] }, 'business day 0'],
    ['a window that ends before it starts', { ...seoul, windows: [{ start: '10:00', end: '08:00' }] }, 'the end must come after the start'],
    ['a time that is not HH:MM', { ...seoul, windows: [{ start: '8am', end: '10:00' }] }, 'expected HH:MM'],
    ['a holiday that is not YYYY-MM-DD', { ...seoul, holidays: ['25/09/2026'] }, 'holiday "25/09/2026"'],
  ])('%s', (_case, rules, message) => {
    expect(() => nextOpening(at('2026-03-10T09:00:00+09:00'), rules)).toThrow(message);
  });
});

describe('the contact\'s time zone', () => {
  test('a lead with its own time zone keeps it', () => {
    expect(timeZoneFor({ timezone: 'America/Los_Angeles', country: 'KR' }, 'Asia/Seoul')).toBe('America/Los_Angeles');
  });

  test("a lead without a time zone gets its country's", () => {
    expect(timeZoneFor({ country: 'KR' }, 'America/New_York')).toBe('Asia/Seoul');
    expect(timeZoneFor({ timezone: 'KST', country: 'jp' }, 'America/New_York')).toBe('Asia/Tokyo');
    expect(timeZoneFor({ region: 'kr' }, 'America/New_York')).toBe('Asia/Seoul');
  });

  test("a sales region narrows a many-zone country, unless the country says otherwise", () => {
    expect(timeZoneFor({ country: 'US', region: 'us-west' }, 'Asia/Seoul')).toBe('America/Los_Angeles');
    expect(timeZoneFor({ region: 'us-midwest' }, 'Asia/Seoul')).toBe('America/Chicago');
    expect(timeZoneFor({ country: 'GB', region: 'us-west' }, 'Asia/Seoul')).toBe('Europe/London');
  });

  test('a lead with nothing to go on gets the team default', () => {
    expect(timeZoneFor({ timezone: '', country: 'Atlantis', region: 'north' }, 'Asia/Seoul')).toBe('Asia/Seoul');
  });
});
