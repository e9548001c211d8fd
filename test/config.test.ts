import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/load';
import { LeadSchema, leadJourneyId } from '../config/lead';
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
    expect(durationMs(config.sla.firstTouch.inbound!)).toBe(5 * 60_000);
  });

  test('nurtures with e-mails on day 0, 3 and 7', () => {
    const offsets: number[] = [];
    let at = 0;
    for (const step of config.cadences.nurture.steps) offsets.push((at += durationMs(step.wait)) / 86_400_000);
    expect(offsets).toEqual([0, 3, 7]);
  });
});

describe('a config error names the field and what was expected', () => {
  test('a bad wait', () => {
    expect(problemsOf(example.replace('wait: 3d', 'wait: three days'))).toEqual([
      expect.stringMatching(/^cadences\.nurture\.steps\[1\]\.wait: expected a duration such as "3d" .*\(line \d+\)$/),
    ]);
  });

  test('an unknown key, with the keys that are allowed', () => {
    expect(problemsOf(example.replace('    inbound: 5m', '    inbound: 5m\n    inbund: 5m'))).toEqual([
      expect.stringMatching(/^sla\.firstTouch\.inbund: unknown key "inbund"; expected one of inbound, outbound/),
    ]);
  });

  test('every problem is listed, one a line', () => {
    const broken = example
      .replace('timezone: Asia/Seoul', 'timezone: Seoul')
      .replace('email: alex.kim@pipewright.example', 'email: alex.kim')
      .replace('{{lead.firstName}}, a guide', '{{lead.frstName}}, a guide')
      .replace('employees: { min: 20, max: 250 }', 'employees: { min: 300, max: 250 }');
    const problems = problemsOf(broken);
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^team\[0\]\.timezone: expected an IANA time zone/),
        expect.stringMatching(/^team\[3\]\.email: expected an e-mail address/),
        expect.stringMatching(/^cadences\.nurture\.steps\[0\]\.subject: unknown placeholder \{\{lead\.frstName\}\}/),
        expect.stringMatching(/^icp\.employees\.max: expected max to be at least min/),
      ]),
    );
  });

  test('a missing section', () => {
    expect(problemsOf(example.replace(/^icp:[\s\S]*?\n\n/m, ''))).toEqual(['icp: required (expected object)']);
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
      expect.stringMatching(/^cadences\.nurture\.steps\[0\]\.subject: template does not parse: Unclosed section/),
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
      'extra: unknown key "extra"; expected one of email, firstName, lastName, company, title, industry, region, employees, source, phone, fields',
    ]);
  });
});

test('durations read and print the way people write them', () => {
  expect(['30s', '5m', '4h', '3d', '2w'].map(durationMs)).toEqual([30_000, 300_000, 14_400_000, 259_200_000, 1_209_600_000]);
  expect(() => durationMs('3 days')).toThrow('expected a duration such as "3d"');
  expect(formatDuration(90_061_000)).toBe('1d 1h 1m 1s');
  expect(formatDuration(250)).toBe('250ms');
});
