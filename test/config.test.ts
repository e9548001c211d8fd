import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/load';
import { LeadSchema } from '../config/lead';
import { leadJourneyId } from '../config/vocabulary';
import { ValidationError, parseOrThrow } from '../config/validation';
import { durationMs, formatDuration } from '../config/duration';
import { exampleConfigFile } from './support/fixtures';

const example = readFileSync(exampleConfigFile, 'utf8');

function problemsOf(yamlText: string): string[] {
  try {
    parseConfig(yamlText);
  } catch (err) {
    if (err instanceof ValidationError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('the example config marketing ops start from', () => {
  const config = parseConfig(example);

  test('has two SDRs, a BDR and a manager, each with a name, e-mail and time zone', () => {
    const roles = config.team.map((m) => m.role);
    expect(roles.filter((r) => r === 'sdr').length).toBeGreaterThanOrEqual(2);
    expect(roles).toContain('bdr');
    expect(roles).toContain('manager');
    for (const m of config.team) expect(m).toEqual(expect.objectContaining({ name: expect.any(String), email: expect.any(String), timezone: expect.any(String) }));
  });

  test('promises a first touch within 5 minutes for inbound leads', () => {
    const inbound = config.sla.policies.filter((p) => p.kind === 'first-touch' && p.when.source?.includes('inbound'));
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({ name: 'inbound-first-touch', clock: 'always', remindAt: [0.5] });
    expect(durationMs(inbound[0]!.within)).toBe(5 * 60_000);
    expect(durationMs(inbound[0]!.reassignAfter!)).toBe(30 * 60_000);
  });

  test('nurtures with e-mails on day 0, 3 and 7', () => {
    const offsets: number[] = [];
    let at = 0;
    for (const step of config.cadences.nurture!.steps) {
      if (step.wait) at += durationMs(step.wait);
      if (step.email) offsets.push(at / 86_400_000);
    }
    expect(offsets).toEqual([0, 3, 7]);
  });

  test("sends e-mail at 08:00-10:00 and 15:00-16:00 in the contact's time, at most once a day and three times a week", () => {
    expect(config.sending).toMatchObject({ sandbox: false, holidays: true, windows: { email: ['08:00-10:00', '15:00-16:00'] }, limits: { perContact: { perDay: 1, perWeek: 3 } } });
  });

  test('carries the seeds\' tier programs: A reaches 5 contacts over at least 6 months on every channel, C is e-mail only', () => {
    const { A, B, C } = config.tiers!.programs;
    expect(A.contacts).toBeGreaterThanOrEqual(5);
    const tierA = config.cadences[A.cadence]!.steps;
    const weeks = tierA.reduce((sum, s) => sum + (s.wait && s.wait !== 'next-business-day' ? durationMs(s.wait) : 0), 0) / (7 * 86_400_000);
    expect(weeks).toBeGreaterThanOrEqual(26);
    expect(new Set(tierA.map((s) => s.task ?? (s.email ? 'email' : s.sms ? 'sms' : undefined)))).toEqual(new Set(['email', 'call', 'linkedin', 'sms', undefined]));
    expect(tierA.some((s) => Array.isArray(s.email) && s.email.length > 1)).toBe(true);
    expect(config.cadences[B.cadence]!.steps.some((s) => s.task === 'call')).toBe(true);
    expect(config.cadences[C.cadence]!.steps.every((s) => s.email || s.wait)).toBe(true);
  });
});

describe('a config error names the field and what was expected', () => {
  test('a bad wait', () => {
    expect(problemsOf(example.replace('wait: 3d', 'wait: three days'))).toEqual([
      expect.stringMatching(/^cadences\.nurture\.steps\[1\]\.wait: expected a duration such as "3d" \(a whole number, then s, m, h, d or w\), or "next-business-day" \(line \d+\)$/),
    ]);
  });

  test('a cadence step that names a template, a step or a kind that does not exist', () => {
    const broken = example
      .replace('{ id: habits, email: nurture-habits }', '{ id: habits, email: nurture-habbits }')
      .replace('then: hot-call, else: wait-3w', 'then: hot-cal, else: wait-3w')
      .replace('{ id: wait-4d, wait: 4d }', '{ id: wait-4d, wait: 4d, email: nurture-call }')
      .replace('{ id: guide, email: c-news-1 }', '{ id: guide, mail: c-news-1 }');
    expect(problemsOf(broken)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cadences\.nurture\.steps\[2\]\.email: no template named "nurture-habbits": expected one of (\S+, )*nurture-guide, nurture-habits, /),
        expect.stringMatching(/^cadences\.tier-a\.steps\[6\]\.branch\.then: no step with id "hot-cal": expected one of intro, /),
        expect.stringMatching(/^cadences\.nurture\.steps\[3\]: expected one step kind, got email and wait/),
        expect.stringMatching(/^cadences\.tier-c\.steps\[0\]\.mail: unknown key "mail"; expected one of id, email, sms, task, template, wait, branch, exit/),
      ]),
    );
  });

  test('a placeholder that may be missing needs a fallback, so nobody is greeted "Hi ,"', () => {
    expect(problemsOf(example.replace('fallbacks: { lead.industry: "B2B" }', ''))).toEqual([
      expect.stringMatching(/^templates\.nurture-guide\.subject: \{\{lead\.industry\}\} may be missing: give it a fallback/),
    ]);
  });

  test('an SMS step (and an SMS escalation) needs a number to send from, and a cadence must stop at an unsubscribe', () => {
    const problems = problemsOf(example.replace(/^sms:\n.*\n  from: .*\n/m, '').replace('  tier-c:\n    steps:', '  tier-c:\n    exitOn: [replied, bounced]\n    steps:'));
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cadences\.tier-a\.steps\[9\]\.sms: an sms step needs sms\.from/),
        expect.stringMatching(/^sla\.urgentGrades: SMS escalations need sms\.from/),
        expect.stringMatching(/^cadences\.tier-c\.exitOn: must include unsubscribed/),
      ]),
    );
  });

  test('an unknown key, with the keys that are allowed', () => {
    expect(problemsOf(example.replace('      within: 5m\n', '      within: 5m\n      withn: 5m\n'))).toEqual([
      expect.stringMatching(/^sla\.policies\[0\]\.withn: unknown key "withn"; expected one of name, kind, when, within, touches, clock, remindAt, reassignAfter \(line \d+\)$/),
    ]);
  });

  test('every problem is listed, one a line', () => {
    const broken = example
      .replace('timezone: Asia/Seoul', 'timezone: Seoul')
      .replace('email: alex.kim@pipewright.example', 'email: alex.kim')
      .replace('{{lead.firstName}}, a guide', '{{lead.frstName}}, a guide')
      .replace('{ field: employees, min: 20, max: 249, weight: 30 }', '{ field: employees, min: 300, max: 249, weight: 30 }');
    const problems = problemsOf(broken);
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^team\[0\]\.timezone: expected an IANA time zone/),
        expect.stringMatching(/^team\[4\]\.email: expected an e-mail address/),
        expect.stringMatching(/^templates\.nurture-guide\.subject: unknown placeholder \{\{lead\.frstName\}\}: expected lead\.<one of email, firstName/),
        expect.stringMatching(/^qualification\.fit\.criteria\[2\]\.max: expected max to be at least min/),
      ]),
    );
  });

  test('a missing section', () => {
    expect(problemsOf(example.replace(/^qualification:[\s\S]*?\n\n/m, ''))).toEqual(['qualification: required (expected object)']);
  });

  test('a team that cannot take inbound leads or hear about breaches', () => {
    const noSdrs = example.replace(/role: sdr/g, 'role: ae').replace(/role: manager/, 'role: ae');
    expect(problemsOf(noSdrs)).toEqual(['team: expected at least one member with role sdr (line 15)', 'team: expected at least one member with role manager (line 15)']);
  });

  test('a manager reference that names nobody', () => {
    const text = example.replace('    timezone: Asia/Seoul', '    timezone: Asia/Seoul\n    manager: ghost@pipewright.example');
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^team\[0\]\.manager: expected the e-mail of a team member with role manager/)]);
  });

  test('YAML that does not parse says where', () => {
    expect(problemsOf('team: [\n')[0]).toMatch(/^line \d+, column \d+: /);
  });

  test('a template that does not parse', () => {
    expect(problemsOf(example.replace('{{lead.firstName}}, a guide', '{{#lead.firstName}}, a guide'))).toEqual([
      expect.stringMatching(/^templates\.nurture-guide\.subject: template does not parse: Unclosed section/),
    ]);
  });
});

describe('a lead', () => {
  const lead = { email: 'Dana@Northwind.example', firstName: 'Dana', company: 'Northwind', industry: 'manufacturing', region: 'kr', employees: 40, source: 'inbound' };

  test('is one journey per e-mail address, whatever its case', () => {
    expect(leadJourneyId(lead)).toBe('lead-dana@northwind.example');
    expect(leadJourneyId({ email: ' dana@NORTHWIND.example ' })).toBe('lead-dana@northwind.example');
  });

  test('with bad fields is rejected field by field', () => {
    let err: unknown;
    try {
      parseOrThrow(LeadSchema, { ...lead, email: 'nope', employees: 'ten', source: 'web', extra: 1 }, 'lead.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).problems).toEqual([
      'email: expected an e-mail address such as "jane@acme.com"',
      'employees: expected number, received string',
      'source: Invalid option: expected one of "inbound"|"outbound"',
      'extra: unknown key "extra"; expected one of email, firstName, lastName, company, title, industry, region, employees, source, phone, timezone, country, bant, fields',
    ]);
  });
});

test('durations read and print the way people write them', () => {
  expect(['30s', '5m', '4h', '3d', '2w'].map(durationMs)).toEqual([30_000, 300_000, 14_400_000, 259_200_000, 1_209_600_000]);
  expect(() => durationMs('3 days')).toThrow('expected a duration such as "3d"');
  expect(formatDuration(90_061_000)).toBe('1d 1h 1m 1s');
  expect(formatDuration(250)).toBe('250ms');
});
