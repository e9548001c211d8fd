import type { Account } from '../config/account';
import { placeholderProblem, renderMessage } from '../config/template';
import { icpFit, type Icp } from '../workflows/legacy/icpFit';
import { tierFor } from '../workflows/rules/tier';
import { managerOf, nextInTurn, roleFor } from '../workflows/rules/team';
import { exampleConfig, fittingLead } from './support/fixtures';

const config = exampleConfig();

// The ICP of config files before qualification was weighted: journeys of versions 1-3 still run on it.
const icp: Icp = { industries: ['manufacturing', 'software', 'logistics'], regions: ['us-northeast', 'us-midwest', 'kr'], employees: { min: 20, max: 250 } };

describe('ICP fit (journeys of versions 1-3)', () => {
  test('a lead matching industry, region and head count fits', () => {
    expect(icpFit(fittingLead({ industry: ' Manufacturing ', region: 'KR', employees: 250 }), icp)).toEqual({ fits: true, misses: [] });
  });

  test('every mismatch is named', () => {
    const fit = icpFit(fittingLead({ industry: 'retail', region: 'us-west', employees: 19 }), icp);
    expect(fit.fits).toBe(false);
    expect(fit.misses).toEqual([
      'industry "retail" is not one of manufacturing, software, logistics',
      'region "us-west" is not one of us-northeast, us-midwest, kr',
      '19 employees is outside 20-250',
    ]);
  });
});

describe('routing', () => {
  test('inbound leads go to SDRs, outbound accounts to BDRs', () => {
    expect(roleFor('inbound')).toBe('sdr');
    expect(roleFor('outbound')).toBe('bdr');
  });

  test('round robin takes the rep after the last one assigned, and starts over when that rep has left', () => {
    expect(nextInTurn(['a', 'b', 'c'], undefined)).toBe('a');
    expect(nextInTurn(['a', 'b', 'c'], 'a')).toBe('b');
    expect(nextInTurn(['a', 'b', 'c'], 'c')).toBe('a');
    expect(nextInTurn(['a', 'c'], 'b')).toBe('a');
    expect(() => nextInTurn([], 'a')).toThrow('no reps');
  });

  test("a breach goes to the rep's own manager, else to the team's first", () => {
    const rep = config.team[0]!;
    const boss = { ...rep, name: 'Second Manager', email: 'boss2@pipewright.example', role: 'manager' as const };
    const team = { ...config, team: [...config.team, boss] };
    expect(managerOf(team, rep).email).toBe('alex.kim@pipewright.example');
    expect(managerOf(team, { ...rep, manager: boss.email }).email).toBe(boss.email);
  });
});

describe('account tiers', () => {
  const { rules } = exampleConfig().tiers!;
  const account = (fields: Partial<Account>): Account => ({ name: 'Acme', domain: 'acme.example', contacts: [{ email: 'a@acme.example', firstName: 'A' }], ...fields });

  test("the account file's own tier wins over the rules", () => {
    expect(tierFor(account({ tier: 'C', employees: 5000 }), rules)).toEqual({ tier: 'C', why: 'from the account file' });
  });

  test('otherwise the first rule that matches decides: 1,000+ people is A, an ICP industry is B, the rest C', () => {
    expect(tierFor(account({ employees: 5000, industry: 'retail' }), rules)).toEqual({ tier: 'A', why: 'tiers.rules[0]' });
    expect(tierFor(account({ employees: 200, industry: 'Software ' }), rules)).toEqual({ tier: 'B', why: 'tiers.rules[1]' });
    expect(tierFor(account({ employees: 200, industry: 'retail' }), rules)).toEqual({ tier: 'C', why: 'tiers.rules[2]' });
    // A rule on head count does not match an account whose head count is unknown.
    expect(tierFor(account({ industry: 'retail' }), rules).tier).toBe('C');
  });

  test('with no rule matching, an account is C', () => {
    expect(tierFor(account({}), [])).toEqual({ tier: 'C', why: 'no rule matched' });
  });
});

describe('templates', () => {
  test('a missing or empty field prints its fallback, never "Hi ,"', () => {
    const context = { contact: { firstName: 'Dana', title: '  ' }, owner: undefined };
    expect(renderMessage('Hi {{contact.firstName}}, as {{contact.title}}: {{owner.name}}', context, { 'contact.title': 'a leader', 'owner.name': 'The team' })).toBe(
      'Hi Dana, as a leader: The team',
    );
  });

  test('an HTML template escapes values from leads; a text one prints them as written', () => {
    const context = { lead: { company: 'Smith & Sons <b>' } };
    expect(renderMessage('<p>{{lead.company}}</p>', context, {}, { html: true })).toBe('<p>Smith &#38; Sons &#60;b&#62;</p>');
    expect(renderMessage('{{lead.company}}', context, {})).toBe('Smith & Sons <b>');
  });

  test('a placeholder is known, or needs a fallback when it may be missing', () => {
    expect(placeholderProblem('contact.firstName', {})).toBeUndefined();
    expect(placeholderProblem('contact.fields.plan', { 'contact.fields.plan': 'your plan' })).toBeUndefined();
    expect(placeholderProblem('contact.title', {})).toMatch(/may be missing: give it a fallback/);
    expect(placeholderProblem('contact.nickname', {})).toMatch(/^unknown placeholder \{\{contact\.nickname\}\}: expected contact\.<one of email, firstName/);
    expect(placeholderProblem('lead', {})).toMatch(/^unknown placeholder/);
  });
});
