import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipewright } from './support/cli';
import { exampleConfigFile } from './support/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-cli-'));

describe('pipewright config validate', () => {
  test('exits 0 on a valid file and says what it holds', async () => {
    const result = await pipewright(['config', 'validate', exampleConfigFile]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('valid (2 sdr, 1 bdr, 1 ae, 1 manager; recycle 7 steps, nurture 5 steps, tier-a 18 steps, tier-b 7 steps, tier-c 3 steps)');
  });

  test('exits non-zero on an invalid file and prints every problem as "path: message", one a line', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      readFileSync(exampleConfigFile, 'utf8')
        .replace('wait: 3d', 'wait: 3 days')
        .replace('      within: 5m\n', '      within: 5m\n      withn: 5m\n'),
    );
    const result = await pipewright(['config', 'validate', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${file} is not valid:`);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^sla\.policies\[0\]\.withn: unknown key "withn"; expected one of name, kind, when, within, touches, clock, remindAt, reassignAfter \(line \d+\)$/),
      expect.stringMatching(/^cadences\.nurture\.steps\[1\]\.wait: expected a duration such as "3d" \(a whole number, then s, m, h, d or w\), or "next-business-day" \(line \d+\)$/),
    ]);
  });

  test('a missing file is named', async () => {
    const result = await pipewright(['config', 'validate', join(dir, 'nope.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot read the file');
  });
});

test('every command has help text', async () => {
  for (const command of [[], ['dev'], ['worker'], ['config', 'validate'], ['lead', 'add'], ['lead', 'show'], ['lead', 'event'], ['servers'], ['intake'], ['apikey', 'create'], ['apikey', 'list'], ['apikey', 'revoke']]) {
    const result = await pipewright([...command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: pipewright/);
  }
});

test('a lead file that is not JSON is refused before anything starts', async () => {
  const file = join(dir, 'lead.json');
  writeFileSync(file, '{"email": ');
  // No Temporal is running at this address: the error must come from the file, not the connection.
  const result = await pipewright(['lead', 'add', file], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^${file} is not valid:\nnot valid JSON: `));
});
