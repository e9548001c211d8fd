import { touchDecision, type TouchLimits } from '../workflows/rules/touchLimits';

const t = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const none = { contact: [], mailbox: [] };

describe('touch limits', () => {
  test('no limits, or no earlier touches, allow the touch', () => {
    const at = t('2026-03-02T09:00:00Z');
    expect(touchDecision(at, { contact: [at - HOUR, at - 2 * HOUR], mailbox: [at] }, {})).toEqual({ allowed: true });
    expect(touchDecision(at, none, { perContact: { perDay: 1, perWeek: 1 }, perMailbox: { perDay: 1 } })).toEqual({ allowed: true });
  });

  test('one touch a day: a second touch waits until 24 hours after the first', () => {
    const last = t('2026-03-02T08:00:00Z');
    expect(touchDecision(t('2026-03-02T17:00:00Z'), { contact: [last], mailbox: [] }, { perContact: { perDay: 1 } })).toEqual({
      allowed: false,
      until: t('2026-03-03T08:00:00Z'),
      reason: 'at most 1 touch a day to this contact (last at 2026-03-02T08:00:00.000Z)',
    });
  });

  test('the window is rolling: exactly 24 hours later the touch is allowed, a millisecond earlier it is not', () => {
    const last = t('2026-03-02T08:00:00Z');
    const limits: TouchLimits = { perContact: { perDay: 1 } };
    expect(touchDecision(last + DAY, { contact: [last], mailbox: [] }, limits)).toEqual({ allowed: true });
    expect(touchDecision(last + DAY - 1, { contact: [last], mailbox: [] }, limits)).toMatchObject({ allowed: false, until: last + DAY });
  });

  test('a touch at the same instant counts (two journeys at once)', () => {
    const at = t('2026-03-02T08:00:00Z');
    expect(touchDecision(at, { contact: [at], mailbox: [] }, { perContact: { perDay: 1 } })).toMatchObject({ allowed: false, until: at + DAY });
  });

  test('three touches a week: the fourth waits for the oldest to leave the week, whatever order they come in', () => {
    const t1 = t('2026-03-02T09:00:00Z');
    const t2 = t('2026-03-04T09:00:00Z');
    const t3 = t('2026-03-06T09:00:00Z');
    const decision = touchDecision(t('2026-03-07T09:00:00Z'), { contact: [t3, t1, t2], mailbox: [] }, { perContact: { perWeek: 3 } });
    expect(decision).toEqual({ allowed: false, until: t('2026-03-09T09:00:00Z'), reason: 'at most 3 touches a week to this contact' });
  });

  test('touches older than the window do not count', () => {
    const at = t('2026-03-10T09:00:00Z');
    const old = [at - 8 * DAY, at - 9 * DAY, at - 10 * DAY];
    expect(touchDecision(at, { contact: old, mailbox: [] }, { perContact: { perDay: 1, perWeek: 1 } })).toEqual({ allowed: true });
  });

  test('two touches a day with three in the last day waits for the second oldest to leave', () => {
    const at = t('2026-03-02T20:00:00Z');
    const touches = [t('2026-03-02T06:00:00Z'), t('2026-03-02T07:00:00Z'), t('2026-03-02T08:00:00Z')];
    expect(touchDecision(at, { contact: touches, mailbox: [] }, { perContact: { perDay: 2 } })).toEqual({
      allowed: false,
      until: t('2026-03-03T07:00:00Z'),
      reason: 'at most 2 touches a day to this contact',
    });
  });

  test('the mailbox daily limit is counted over the mailbox, not the contact', () => {
    const at = t('2026-03-02T12:00:00Z');
    const mailbox = Array.from({ length: 500 }, (_, i) => at - DAY + 1 + i * 60_000);
    const limits: TouchLimits = { perContact: { perDay: 1 }, perMailbox: { perDay: 500 } };
    expect(touchDecision(at, { contact: [], mailbox }, limits)).toEqual({
      allowed: false,
      until: mailbox[0]! + DAY,
      reason: 'mailbox daily limit of 500 reached',
    });
    expect(touchDecision(at, { contact: [], mailbox: mailbox.slice(1) }, limits)).toEqual({ allowed: true });
  });

  test('when several limits are exceeded, it waits for the latest and names them all', () => {
    const at = t('2026-03-02T12:00:00Z');
    const contact = [t('2026-03-02T08:00:00Z')];
    const mailbox = [t('2026-03-02T10:00:00Z')];
    expect(touchDecision(at, { contact, mailbox }, { perContact: { perDay: 1 }, perMailbox: { perDay: 1 } })).toEqual({
      allowed: false,
      until: t('2026-03-03T10:00:00Z'),
      reason: 'at most 1 touch a day to this contact (last at 2026-03-02T08:00:00.000Z); mailbox daily limit of 1 reached',
    });
  });

  test('waiting out one limit can run into another: the answer is a time that is actually allowed', () => {
    // perDay 1 alone would say 2026-03-03T08:00; but by then the week holds 2 touches and
    // perWeek 2 says wait for the 2026-02-25T09:00 touch to leave the week, on 2026-03-04T09:00.
    const at = t('2026-03-02T12:00:00Z');
    const contact = [t('2026-02-25T09:00:00Z'), t('2026-03-02T08:00:00Z')];
    const limits: TouchLimits = { perContact: { perDay: 1, perWeek: 2 } };
    const decision = touchDecision(at, { contact, mailbox: [] }, limits);
    expect(decision).toMatchObject({ allowed: false, until: t('2026-03-04T09:00:00Z') });
    if (decision.allowed) throw new Error('unreachable');
    expect(touchDecision(decision.until, { contact, mailbox: [] }, limits)).toEqual({ allowed: true });
    expect(touchDecision(decision.until - 1, { contact, mailbox: [] }, limits).allowed).toBe(false);
  });

  test('a touch recorded after the asked time (another journey claimed a moment later on its clock) holds this one back too', () => {
    // Two journeys reaching one contact at once: the one whose clock read earlier but claimed second
    // must not go out beside the other.
    const at = t('2026-03-02T12:00:00Z');
    expect(touchDecision(at, { contact: [at + 8], mailbox: [] }, { perContact: { perDay: 1 } })).toMatchObject({ allowed: false, until: at + 8 + DAY });
    // With a touch in the way now, the wait must also clear that later one.
    const contact = [t('2026-03-02T08:00:00Z'), t('2026-03-03T07:00:00Z')];
    expect(touchDecision(at, { contact, mailbox: [] }, { perContact: { perDay: 1 } })).toMatchObject({
      allowed: false,
      until: t('2026-03-04T07:00:00Z'),
    });
  });

  test('the answer is always allowed when asked again at `until`, over many random cases', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const at = t('2026-03-02T12:00:00Z');
    for (let i = 0; i < 500; i++) {
      const spread = () => Array.from({ length: Math.floor(random() * 12) }, () => at - Math.floor(random() * 8 * DAY));
      const recent = { contact: spread(), mailbox: spread() };
      const limits: TouchLimits = {
        perContact: { perDay: 1 + Math.floor(random() * 3), perWeek: 1 + Math.floor(random() * 6) },
        perMailbox: { perDay: 1 + Math.floor(random() * 5) },
      };
      const decision = touchDecision(at, recent, limits);
      if (decision.allowed) continue;
      expect(decision.until).toBeGreaterThan(at);
      expect(touchDecision(decision.until, recent, limits)).toEqual({ allowed: true });
      expect(touchDecision(decision.until - 1, recent, limits).allowed).toBe(false);
    }
  });

  test('a limit that no wait could meet, or a time that is not one, is refused', () => {
    const at = t('2026-03-02T12:00:00Z');
    expect(() => touchDecision(at, none, { perContact: { perDay: 0 } })).toThrow(/perContact.perDay must be a whole number ≥ 1/);
    expect(() => touchDecision(at, none, { perMailbox: { perDay: 2.5 } })).toThrow(/perMailbox.perDay/);
    expect(() => touchDecision(Number.NaN, none, {})).toThrow(/not an instant/);
    expect(() => touchDecision(at, { contact: [Number.NaN], mailbox: [] }, { perContact: { perDay: 1 } })).toThrow(/not an instant/);
  });
});
