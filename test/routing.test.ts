import type { Lead } from '../config/lead';
import { RoutingSchema, type Strategy } from '../config/routing';
import { chooseRule, pickRep, type CandidateFacts, type PickOptions, type TurnState } from '../workflows/rules/routing';

const lead: Lead = {
  email: 'jane@acme.com',
  firstName: 'Jane',
  company: 'Acme',
  industry: 'SaaS',
  region: 'us-west',
  employees: 250,
  source: 'inbound',
};

// Wednesday 2026-03-04 11:00 in Seoul (21:00 on Tuesday in New York), and 21:00 that day in Seoul
// (07:00 on Wednesday in New York).
const WORKDAY = new Date('2026-03-04T02:00:00Z');
const SEOUL_NIGHT = new Date('2026-03-04T12:00:00Z');
const hours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[], hours: '09:00-18:00' };

function rep(email: string, facts: Partial<CandidateFacts> = {}): CandidateFacts {
  return { email, weight: 1, cap: 500, timezone: 'Asia/Seoul', workingHours: hours, openLeads: 0, ...facts };
}

const at = (now: Date, more: Partial<PickOptions> = {}): PickOptions => ({ now, respectWorkingHours: false, ...more });

/** Picks n times, carrying the turn and counting a lead per pick, as the store does. */
function tally(strategy: Strategy, reps: CandidateFacts[], n: number, turn: TurnState = {}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const choice = pickRep(strategy, reps, turn, at(WORKDAY));
    counts[choice.rep!] = (counts[choice.rep!] ?? 0) + 1;
    turn = choice.turn;
  }
  return counts;
}

describe('chooseRule', () => {
  const routing = RoutingSchema.parse({
    pools: { enterprise: { members: ['a@x.com'] }, korea: { members: ['b@x.com'] }, hot: { members: ['c@x.com'] }, general: { members: ['d@x.com'] } },
    rules: [
      { name: 'big accounts', when: { employees: { min: 1000 } }, pool: 'enterprise' },
      { when: { region: [' KR ', 'apac'], industry: ['saas'] }, pool: 'korea' },
      { name: 'hot tier A', when: { grade: ['A'], tier: ['A'] }, pool: 'hot' },
      { name: 'directors', when: { title: ['Director'] }, pool: 'hot' },
      { name: 'everyone else', pool: 'general' },
    ],
  });

  test('the first matching rule wins, named, or rules[i] when unnamed', () => {
    expect(chooseRule(routing, { lead: { ...lead, employees: 5000, region: 'kr' }, grade: 'A' })).toEqual({ pool: 'enterprise', rule: 'big accounts' });
    expect(chooseRule(routing, { lead: { ...lead, region: 'kr' }, grade: 'A', tier: 'A' })).toEqual({ pool: 'korea', rule: 'rules[1]' });
    expect(chooseRule(routing, { lead, grade: 'C' })).toEqual({ pool: 'general', rule: 'everyone else' });
  });

  test('text is compared trimmed and case-insensitively, and every named field must match', () => {
    expect(chooseRule(routing, { lead: { ...lead, region: ' APAC', industry: 'SAAS ' }, grade: 'D' })?.pool).toBe('korea');
    expect(chooseRule(routing, { lead: { ...lead, region: 'apac', industry: 'fintech' }, grade: 'D' })?.pool).toBe('general');
  });

  test('employees are bounded inclusively by min and max', () => {
    const ranged = RoutingSchema.parse({
      pools: { mid: { members: ['a@x.com'] }, rest: { members: ['b@x.com'] } },
      rules: [{ when: { employees: { min: 100, max: 999 } }, pool: 'mid' }, { pool: 'rest' }],
    });
    const pool = (employees: number) => chooseRule(ranged, { lead: { ...lead, employees }, grade: 'B' })?.pool;
    expect([pool(99), pool(100), pool(999), pool(1000)]).toEqual(['rest', 'mid', 'mid', 'rest']);
  });

  test('grade and tier must both be among those listed; a lead without a tier or a title does not match a rule naming one', () => {
    expect(chooseRule(routing, { lead, grade: 'A', tier: 'A' })?.rule).toBe('hot tier A');
    expect(chooseRule(routing, { lead, grade: 'A', tier: 'B' })?.rule).toBe('everyone else');
    expect(chooseRule(routing, { lead, grade: 'A' })?.rule).toBe('everyone else');
    expect(chooseRule(routing, { lead: { ...lead, title: ' director' }, grade: 'B' })?.rule).toBe('directors');
  });

  test('no rule matching gives no pool', () => {
    const partial = RoutingSchema.parse({ pools: { p: { members: ['a@x.com'] } }, rules: [{ when: { source: ['outbound'] }, pool: 'p' }] });
    expect(chooseRule(partial, { lead, grade: 'A' })).toBeUndefined();
  });
});

describe('pickRep', () => {
  const four = ['a@x.com', 'b@x.com', 'c@x.com', 'd@x.com'].map((email) => rep(email));

  describe('round-robin', () => {
    test('the next member after the last one, wrapping round; the first when there is no last or the last has gone', () => {
      expect(pickRep('round-robin', four, {}, at(WORKDAY))).toMatchObject({ rep: 'a@x.com', turn: { last: 'a@x.com' } });
      expect(pickRep('round-robin', four, { last: 'b@x.com' }, at(WORKDAY)).rep).toBe('c@x.com');
      expect(pickRep('round-robin', four, { last: 'D@X.com' }, at(WORKDAY)).rep).toBe('a@x.com');
      expect(pickRep('round-robin', four, { last: 'gone@x.com' }, at(WORKDAY)).rep).toBe('a@x.com');
    });

    test('1000 picks over four reps give 250 each', () => {
      expect(tally('round-robin', four, 1000)).toEqual({ 'a@x.com': 250, 'b@x.com': 250, 'c@x.com': 250, 'd@x.com': 250 });
    });

    test('an ineligible member is passed over and the turn goes to the next', () => {
      const reps = [rep('a@x.com'), rep('b@x.com', { openLeads: 500 }), rep('c@x.com')];
      expect(pickRep('round-robin', reps, { last: 'a@x.com' }, at(WORKDAY))).toEqual({
        rep: 'c@x.com',
        skipped: [{ rep: 'b@x.com', reason: 'at cap: 500 open leads' }],
        turn: { last: 'c@x.com' },
      });
    });
  });

  describe('weighted', () => {
    test('smooth weighted round robin: 2:1:1 over 1000 picks is exactly 500/250/250, interleaved', () => {
      const reps = [rep('a@x.com', { weight: 2 }), rep('b@x.com'), rep('c@x.com')];
      expect(tally('weighted', reps, 1000)).toEqual({ 'a@x.com': 500, 'b@x.com': 250, 'c@x.com': 250 });
      let turn: TurnState = {};
      const firstFour = [0, 1, 2, 3].map(() => {
        const choice = pickRep('weighted', reps, turn, at(WORKDAY));
        turn = choice.turn;
        return choice.rep;
      });
      expect(firstFour).toEqual(['a@x.com', 'b@x.com', 'c@x.com', 'a@x.com']);
    });

    test('four equal weights give 250 each', () => {
      expect(tally('weighted', four, 1000)).toEqual({ 'a@x.com': 250, 'b@x.com': 250, 'c@x.com': 250, 'd@x.com': 250 });
    });

    test('only eligible members share the picks, and members no longer in the pool are forgotten', () => {
      const reps = [rep('a@x.com', { weight: 2 }), rep('b@x.com', { awayUntil: new Date('2026-12-01') }), rep('c@x.com')];
      expect(tally('weighted', reps, 300)).toEqual({ 'a@x.com': 200, 'c@x.com': 100 });
      const choice = pickRep('weighted', four, { current: { 'gone@x.com': 7, 'a@x.com': -2 } }, at(WORKDAY));
      expect(Object.keys(choice.turn.current!).sort()).toEqual(['a@x.com', 'b@x.com', 'c@x.com', 'd@x.com']);
      expect(choice.rep).toBe('b@x.com');
    });
  });

  describe('least-loaded', () => {
    test('the rep with the fewest open leads', () => {
      const reps = [rep('a@x.com', { openLeads: 5 }), rep('b@x.com', { openLeads: 2 }), rep('c@x.com', { openLeads: 3 })];
      expect(pickRep('least-loaded', reps, { last: 'b@x.com' }, at(WORKDAY))).toMatchObject({ rep: 'b@x.com', turn: { last: 'b@x.com' } });
    });

    test('a tie goes to the first after the last one in turn', () => {
      const reps = [rep('a@x.com', { openLeads: 1 }), rep('b@x.com', { openLeads: 4 }), rep('c@x.com', { openLeads: 1 })];
      expect(pickRep('least-loaded', reps, {}, at(WORKDAY)).rep).toBe('a@x.com');
      expect(pickRep('least-loaded', reps, { last: 'a@x.com' }, at(WORKDAY)).rep).toBe('c@x.com');
      expect(pickRep('least-loaded', reps, { last: 'c@x.com' }, at(WORKDAY)).rep).toBe('a@x.com');
    });

    test('the least loaded but ineligible rep is passed over', () => {
      const reps = [rep('a@x.com', { openLeads: 1, left: '2026-01-31' }), rep('b@x.com', { openLeads: 4 })];
      expect(pickRep('least-loaded', reps, {}, at(WORKDAY))).toMatchObject({ rep: 'b@x.com', skipped: [{ rep: 'a@x.com', reason: 'left the team on 2026-01-31' }] });
    });
  });

  describe('skip reasons', () => {
    const reasons = (reps: CandidateFacts[], options: PickOptions) => pickRep('round-robin', reps, {}, options).skipped;

    test('away until a date, or until an instant', () => {
      expect(reasons([rep('a@x.com', { awayUntil: new Date('2026-12-01') }), rep('b@x.com')], at(WORKDAY))).toEqual([
        { rep: 'a@x.com', reason: 'away until 2026-12-01' },
      ]);
      expect(reasons([rep('a@x.com', { awayUntil: new Date('2026-03-04T14:30:00Z') })], at(WORKDAY))).toEqual([
        { rep: 'a@x.com', reason: 'away until 2026-03-04T14:30Z' },
      ]);
    });

    test('an absence that has ended does not count', () => {
      expect(reasons([rep('a@x.com', { awayUntil: WORKDAY })], at(WORKDAY))).toEqual([]);
    });

    test('at cap, the rep\'s own cap', () => {
      expect(reasons([rep('a@x.com', { cap: 10, openLeads: 10 }), rep('b@x.com', { cap: 10, openLeads: 9 })], at(WORKDAY))).toEqual([
        { rep: 'a@x.com', reason: 'at cap: 10 open leads' },
      ]);
    });

    test('outside working hours in the rep\'s own time zone, only when working hours are respected', () => {
      const seoul = rep('a@x.com');
      const newYork = rep('b@x.com', { timezone: 'America/New_York', workingHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], hours: '06:00-20:00' } });
      expect(reasons([seoul, newYork], at(SEOUL_NIGHT, { respectWorkingHours: true }))).toEqual([
        { rep: 'a@x.com', reason: 'outside working hours (09:00-18:00 Asia/Seoul, mon-fri)' },
      ]);
      expect(reasons([seoul, newYork], at(WORKDAY, { respectWorkingHours: true }))).toEqual([
        { rep: 'b@x.com', reason: 'outside working hours (06:00-20:00 America/New_York, mon-sat)' },
      ]);
      expect(reasons([seoul, newYork], at(SEOUL_NIGHT))).toEqual([]);
      const odd = rep('c@x.com', { workingHours: { days: ['sun', 'mon', 'wed', 'sat'], hours: '10:00-11:00' } });
      expect(reasons([odd], at(SEOUL_NIGHT, { respectWorkingHours: true }))[0]!.reason).toBe('outside working hours (10:00-11:00 Asia/Seoul, mon, wed, sat, sun)');
    });

    test('left the team: from the day they left, on their own calendar', () => {
      // 2026-03-04T02:00Z is already the 4th in Seoul but still the 3rd in New York.
      expect(reasons([rep('a@x.com', { left: '2026-03-04' })], at(WORKDAY))).toEqual([{ rep: 'a@x.com', reason: 'left the team on 2026-03-04' }]);
      expect(reasons([rep('a@x.com', { left: '2026-03-04', timezone: 'America/New_York' })], at(WORKDAY))).toEqual([]);
      expect(reasons([rep('a@x.com', { left: '2026-03-05' })], at(WORKDAY))).toEqual([]);
    });

    test('the previous owner, however the address is spelt', () => {
      expect(pickRep('round-robin', four, { last: 'a@x.com' }, at(WORKDAY, { exclude: ['B@X.COM'] }))).toMatchObject({
        rep: 'c@x.com',
        skipped: [{ rep: 'b@x.com', reason: 'previous owner' }],
      });
    });

    test('nobody eligible: no rep, every member listed with why, and the turn unchanged', () => {
      const turn = { last: 'b@x.com', current: { 'a@x.com': 1, 'b@x.com': -1 } };
      const reps = [rep('a@x.com', { openLeads: 3, cap: 3 }), rep('b@x.com', { awayUntil: new Date('2026-12-01') })];
      for (const strategy of ['round-robin', 'weighted', 'least-loaded'] as const) {
        expect(pickRep(strategy, reps, turn, at(WORKDAY))).toEqual({
          skipped: [
            { rep: 'a@x.com', reason: 'at cap: 3 open leads' },
            { rep: 'b@x.com', reason: 'away until 2026-12-01' },
          ],
          turn,
        });
      }
    });
  });
});
