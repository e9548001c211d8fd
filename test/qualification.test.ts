import type { Lead } from '../config/lead';
import { DEFAULT_MATRIX, GRADES, INTEREST_LEVELS, QualificationSchema, type Qualification } from '../config/qualification';
import { bantConfirmed, fitGrade, interest, levelDropsAt, matrixCell, qualify, type BehaviourEvent } from '../workflows/rules/qualification';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.parse('2026-03-10T12:00:00Z');

// DOMAIN.md's ICP: manufacturing (or software), north-east America (or Korea), under 250 people.
const q: Qualification = QualificationSchema.parse({
  fit: {
    criteria: [
      { field: 'industry', in: ['manufacturing', 'software'], weight: 40 },
      { field: 'region', in: ['us-northeast', 'kr'], weight: 30 },
      { field: 'employees', max: 249, weight: 20 },
      { field: 'title', in: ['CTO', 'VP Engineering'], weight: 10 },
    ],
  },
});

const lead = (over: Partial<Lead> = {}): Lead => ({
  email: 'jane@acme.com',
  firstName: 'Jane',
  company: 'Acme',
  industry: 'manufacturing',
  region: 'us-northeast',
  employees: 120,
  source: 'inbound',
  title: 'CTO',
  ...over,
});

const ago = (type: BehaviourEvent['type'], ms: number): BehaviourEvent => ({ type, at: NOW - ms });

describe('fit', () => {
  test('every criterion met is grade A at 100%, with a reason per criterion a marketer can check', () => {
    expect(fitGrade(lead({ industry: ' Software ', title: 'cto' }), q.fit)).toEqual({
      grade: 'A',
      score: 100,
      reasons: [
        'industry "Software" is one of manufacturing, software (+40)',
        'region "us-northeast" is one of us-northeast, kr (+30)',
        'employees 120 is at most 249 (+20)',
        'title "cto" is one of CTO, VP Engineering (+10)',
        '100 of 100 weight met = 100%: grade A (A from 90%, B from 60%, C from 30%)',
      ],
    });
  });

  test('misses say what was wanted and what weight was lost', () => {
    const { reasons } = fitGrade(lead({ region: 'eu-west', employees: 900, title: undefined }), q.fit);
    expect(reasons.slice(1, 4)).toEqual([
      'region "eu-west" is not one of us-northeast, kr (0 of 30)',
      'employees 900 is above 249 (0 of 20)',
      'title is missing, wanted one of CTO, VP Engineering (0 of 10)',
    ]);
  });

  test.each([
    ['exactly 90% is A', lead({ title: 'Intern' }), 'A', 90],
    ['exactly 60% is B', lead({ region: 'eu-west', title: 'Intern' }), 'B', 60],
    ['exactly 30% is C', lead({ industry: 'retail', employees: 900, title: 'Intern' }), 'C', 30],
    ['20% is D', lead({ industry: 'retail', region: 'eu-west', title: 'Intern' }), 'D', 20],
    ['nothing met is D at 0%', lead({ industry: 'retail', region: 'eu-west', employees: 900, title: 'Intern' }), 'D', 0],
  ])('grade boundaries: %s', (_, who, grade, score) => {
    expect(fitGrade(who, q.fit)).toMatchObject({ grade, score });
  });

  test('just under a boundary is the grade below', () => {
    // One more point to earn: 90 of 101 is 89.1%, under A's 90.
    const fit = { ...q.fit, criteria: [...q.fit.criteria, { field: 'country' as const, in: ['US'], weight: 1 }] };
    expect(fitGrade(lead({ title: 'Intern' }), fit)).toMatchObject({ grade: 'B', score: 89.1 });
    expect(fitGrade(lead({ title: 'Intern', country: 'us' }), fit)).toMatchObject({ grade: 'A', score: 90.1 });
  });

  test('the score is the share of weight met, rounded to one decimal, and grades compare it as shown', () => {
    const thirds = { criteria: [{ field: 'industry' as const, in: ['manufacturing'], weight: 2 }, { field: 'region' as const, in: ['kr'], weight: 1 }], grades: { A: 66.7, B: 50, C: 10 } };
    expect(fitGrade(lead(), thirds)).toMatchObject({ grade: 'A', score: 66.7 });
  });

  test('employees ranges are inclusive at both ends', () => {
    const size = { criteria: [{ field: 'employees' as const, min: 10, max: 250, weight: 1 }], grades: { A: 100, B: 50, C: 1 } };
    expect(fitGrade(lead({ employees: 10 }), size).reasons[0]).toBe('employees 10 is within 10-250 (+1)');
    expect(fitGrade(lead({ employees: 250 }), size).grade).toBe('A');
    expect(fitGrade(lead({ employees: 9 }), size).reasons[0]).toBe('employees 9 is below 10 (0 of 1)');
    expect(fitGrade(lead({ employees: 251 }), size).grade).toBe('D');
  });

  test('text criteria on the other lead fields: source, country, company', () => {
    const fields = {
      criteria: [
        { field: 'source' as const, in: ['inbound'], weight: 1 },
        { field: 'country' as const, in: ['kr'], weight: 1 },
        { field: 'company' as const, in: ['ACME'], weight: 1 },
      ],
      grades: { A: 100, B: 60, C: 30 },
    };
    expect(fitGrade(lead({ country: 'KR' }), fields)).toMatchObject({ grade: 'A', score: 100 });
    expect(fitGrade(lead(), fields).reasons[1]).toBe('country is missing, wanted kr (0 of 1)');
  });
});

describe('BANT', () => {
  test('what counts as confirmed', () => {
    expect(bantConfirmed(undefined)).toEqual([]);
    expect(bantConfirmed({})).toEqual([]);
    expect(bantConfirmed({ budget: 50_000, authority: true, need: 'replace the ERP', timeline: 'Q3' })).toEqual(['budget', 'authority', 'need', 'timeline']);
    expect(bantConfirmed({ budget: true, need: true })).toEqual(['budget', 'need']);
    expect(bantConfirmed({ budget: 0, authority: false, need: false })).toEqual([]);
    expect(bantConfirmed({ budget: false, need: '  ', timeline: ' ' })).toEqual([]);
  });
});

describe('interest', () => {
  test('a click two days ago is worth a little less than a fresh one', () => {
    const result = interest([ago('clicked', 2 * DAY)], undefined, q.interest, NOW);
    expect(result.score).toBe(4.8);
    expect(result.level).toBe('passive');
    expect(result.reasons[0]).toBe('clicked 2d ago: 5 -> 4.8');
  });

  test('points halve after one half-life, and again after two', () => {
    expect(interest([ago('downloaded', 30 * DAY)], undefined, q.interest, NOW).score).toBe(5);
    expect(interest([ago('downloaded', 60 * DAY)], undefined, q.interest, NOW).score).toBe(2.5);
    expect(interest([ago('downloaded', 7 * DAY)], undefined, { ...q.interest, halfLife: '7d' }, NOW).score).toBe(5);
    // A zero half-life keeps only what happens now: the limit of ever faster decay, not a division by zero.
    expect(interest([ago('downloaded', 0), ago('clicked', 1)], undefined, { ...q.interest, halfLife: '0d' }, NOW).score).toBe(10);
  });

  test('levels: active from 5, sales-ready from 30 (inclusive)', () => {
    expect(interest([ago('downloaded', 30 * DAY)], undefined, q.interest, NOW).level).toBe('active');
    expect(interest([ago('pricing-page', 0)], undefined, q.interest, NOW).level).toBe('sales-ready');
    expect(interest([ago('opened', HOUR)], undefined, q.interest, NOW).level).toBe('passive');
    expect(interest([], undefined, q.interest, NOW)).toEqual({
      score: 0,
      level: 'passive',
      bant: [],
      reasons: ['score 0 (half-life 30d): passive (active from 5, sales-ready from 30)'],
    });
  });

  test('events add up', () => {
    // 40 (demo request now) + 10 * 0.5 (download a half-life ago) + 1 (open now) = 46.
    const events = [ago('demo-request', 0), ago('downloaded', 30 * DAY), ago('opened', 0)];
    expect(interest(events, undefined, q.interest, NOW)).toMatchObject({ score: 46, level: 'sales-ready' });
  });

  test('a future event counts fully, and a type without a weight counts nothing', () => {
    const cfg = { ...q.interest, weights: { clicked: 5 } };
    const result = interest([{ type: 'clicked', at: NOW + 3 * HOUR }, ago('opened', DAY)], undefined, cfg, NOW);
    expect(result.score).toBe(5);
    expect(result.reasons.slice(0, 2)).toEqual(['clicked in 3h: 5 -> 5', 'opened 1d ago: no weight set -> 0']);
  });

  test('BANT makes a passive lead sales-ready', () => {
    const bant = { budget: 50_000, authority: true, need: 'replace the ERP' };
    const result = interest([ago('opened', DAY)], bant, q.interest, NOW);
    expect(result.level).toBe('sales-ready');
    expect(result.bant).toEqual(['budget', 'authority', 'need']);
    expect(result.reasons).toContain('BANT 3 of 4 confirmed (budget, authority, need): sales-ready');
  });

  test('too little BANT leaves the level to the score, and says what it takes', () => {
    const result = interest([ago('opened', DAY)], { budget: true, timeline: 'Q3' }, q.interest, NOW);
    expect(result.level).toBe('passive');
    expect(result.reasons).toContain('BANT 2 of 4 confirmed (budget, timeline): sales-ready takes 3');
    expect(interest([], { budget: true, timeline: 'Q3' }, { ...q.interest, bantSalesReady: 2 }, NOW).level).toBe('sales-ready');
  });
});

describe('the matrix', () => {
  const expected = {
    A: { passive: 'route', active: 'route', 'sales-ready': 'route' },
    B: { passive: 'nurture', active: 'route', 'sales-ready': 'route' },
    C: { passive: 'nurture', active: 'nurture', 'sales-ready': 'route' },
    D: { passive: 'drop', active: 'nurture', 'sales-ready': 'route' },
  } as const;
  const cells = GRADES.flatMap((grade) => INTEREST_LEVELS.map((level) => [grade, level, expected[grade][level]] as const));

  test.each(cells)('DEFAULT_MATRIX: %s x %s -> %s', (grade, level, action) => {
    expect(matrixCell(grade, level, DEFAULT_MATRIX)).toBe(action);
  });

  test('a configured matrix wins over the default', () => {
    expect(matrixCell('A', 'passive', { ...DEFAULT_MATRIX, A: { passive: 'nurture', active: 'route', 'sales-ready': 'route' } })).toBe('nurture');
  });
});

describe('qualify', () => {
  test('a B lead that clicked a fresh link is active and goes to sales', () => {
    const verdict = qualify(lead({ region: 'eu-west', title: undefined }), [ago('clicked', 0)], undefined, q, NOW);
    expect(verdict).toMatchObject({ cell: 'B x active', action: 'route', fit: { grade: 'B', score: 60 }, interest: { score: 5, level: 'active' } });
  });

  test('a quiet D lead is let go; with BANT confirmed, the same lead goes to sales', () => {
    const poor = lead({ industry: 'retail', region: 'eu-west', employees: 900, title: undefined });
    expect(qualify(poor, [ago('opened', DAY)], undefined, q, NOW)).toMatchObject({ cell: 'D x passive', action: 'drop' });
    expect(qualify(poor, [ago('opened', DAY)], { budget: true, authority: true, need: true }, q, NOW)).toMatchObject({ cell: 'D x sales-ready', action: 'route' });
  });

  test('silence cools a lead: a C lead\'s download makes it active now, passive three months later', () => {
    const c = lead({ industry: 'retail', employees: 900, title: undefined });
    const events = [ago('downloaded', 0)];
    expect(qualify(c, events, undefined, q, NOW)).toMatchObject({ cell: 'C x active', action: 'nurture' });
    expect(qualify(c, events, undefined, q, NOW + 90 * DAY)).toMatchObject({ cell: 'C x passive', action: 'nurture' });
  });
});

describe('levelDropsAt', () => {
  const levelAt = (events: BehaviourEvent[], t: number) => interest(events, undefined, q.interest, t).level;

  test('an active lead drops to passive just after its score, shown to 1 decimal, falls below 5', () => {
    // 10 points halve to 5 after 30 days, and show as 4.9 once below 4.95: 30d * log2(10 / 4.95), about 30.4 days.
    const events = [ago('downloaded', 0)];
    const drop = levelDropsAt(events, undefined, q.interest, NOW)!;
    expect(drop - NOW).toBeGreaterThan(30.4 * DAY);
    expect(drop - NOW).toBeLessThan(30.5 * DAY);
    expect(levelAt(events, drop - 1)).toBe('active');
    expect(levelAt(events, drop)).toBe('passive');
  });

  test('a sales-ready lead drops to active', () => {
    const events = [ago('demo-request', 0)];
    const drop = levelDropsAt(events, undefined, q.interest, NOW)!;
    expect(levelAt(events, drop - 1)).toBe('sales-ready');
    expect(levelAt(events, drop)).toBe('active');
  });

  test('a future event holds the level until it, too, has decayed', () => {
    const events = [{ type: 'downloaded' as const, at: NOW + 10 * DAY }];
    const drop = levelDropsAt(events, undefined, q.interest, NOW)!;
    expect(drop - NOW).toBeGreaterThan(40 * DAY);
    expect(levelAt(events, drop)).toBe('passive');
  });

  test('nothing to wait for when passive, or when BANT holds the lead at sales-ready', () => {
    expect(levelDropsAt([ago('opened', 0)], undefined, q.interest, NOW)).toBeUndefined();
    expect(levelDropsAt([ago('demo-request', 0)], { budget: true, authority: true, need: true }, q.interest, NOW)).toBeUndefined();
  });
});
