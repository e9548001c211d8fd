import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../client/paths';
import { loadConfig } from '../../config/load';
import type { Lead } from '../../config/lead';
import type { ReceivedMail } from '../../client/mailSink';
import type { Config } from '../../config/schema';

export const exampleConfigFile = join(packageRoot(), 'config', 'examples', 'default.yaml');

export function exampleConfig(): Config {
  return loadConfig(exampleConfigFile);
}

/**
 * The example config file with sending.sandbox on (and, optionally, more edits), written to a temp
 * file: for tests on the dev server, where a nurture e-mail cannot wait for 08:00.
 */
export function sandboxConfigFile(edit: (yaml: string) => string = (yaml) => yaml): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pipewright-config-')), 'pipewright.yaml');
  writeFileSync(file, edit(readFileSync(exampleConfigFile, 'utf8').replace('sandbox: false', 'sandbox: true')));
  return file;
}

/** The example config with sending.sandbox on: cadences run at their offsets, whatever the hour or the day. */
export function sandboxConfig(): Config {
  const config = exampleConfig();
  return { ...config, sending: { ...config.sending, sandbox: true } };
}

let n = 0;
/** A lead that fits the example ICP (industry, region and head count: grade A, routed at once), with an address no other test uses. */
export function fittingLead(overrides: Partial<Lead> = {}): Lead {
  n++;
  return {
    email: `buyer${n}.${process.pid}@fit-${n}.example`,
    firstName: 'Dana',
    lastName: 'Whitfield',
    company: `Northwind ${n}`,
    industry: 'manufacturing',
    region: 'us-northeast',
    employees: 120,
    source: 'inbound',
    ...overrides,
  };
}

/** A lead outside the example ICP's industries: grade B (60% of the fit weight), and while it shows no interest it belongs in the nurture cadence. */
export function nurtureLead(overrides: Partial<Lead> = {}): Lead {
  return fittingLead({ industry: 'retail', company: `Corner Shop ${++n}`, ...overrides });
}

/** Matches the e-mail that tells a rep this lead is theirs. */
export const sdrNoticeAbout = (lead: Pick<Lead, 'email'>) => (m: ReceivedMail) =>
  m.subject.startsWith('New inbound lead') && m.text.includes(lead.email);
