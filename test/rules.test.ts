import { icpFit } from '../workflows/rules/icpFit';
import { managerOf, nextInTurn, roleFor } from '../workflows/rules/team';
import { exampleConfig, fittingLead } from './support/fixtures';

const config = exampleConfig();

describe('ICP fit', () => {
  test('a lead matching industry, region and head count fits', () => {
    expect(icpFit(fittingLead({ industry: ' Manufacturing ', region: 'KR', employees: 250 }), config.icp)).toEqual({ fits: true, misses: [] });
  });

  test('every mismatch is named', () => {
    const fit = icpFit(fittingLead({ industry: 'retail', region: 'us-west', employees: 19 }), config.icp);
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
