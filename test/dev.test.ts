// `pipewright dev`, run as the README's first command runs it: it says where everything listens,
// saves and announces each e-mail, stops on Ctrl-C, and the journeys in flight survive a restart.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { exampleConfigFile, fittingLead } from './support/fixtures';
import { pipewright, startPipewright } from './support/cli';
import { freePort } from '../client/freePort';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-dev-'));
const dataDir = join(dir, 'data');
const configFile = join(dir, 'pipewright.yaml');
// Long enough to stop and restart `pipewright dev` before the deadline, short enough to wait for.
const example = readFileSync(exampleConfigFile, 'utf8');
if (example.split('      within: 5m\n').length !== 2) throw new Error('expected one 5-minute SLA (inbound-first-touch) in the example config');
writeFileSync(configFile, example.replace('      within: 5m\n', '      within: 25s\n'));

function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

async function waitForOutput(output: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a journey started before a restart of pipewright dev breaches its SLA after it', async () => {
  const [port, uiPort, smtpPort, intakePort, storePort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const args = ['dev', '--data', dataDir, '--port', String(port), '--ui-port', String(uiPort), '--smtp-port', String(smtpPort), '--intake-port', String(intakePort), '--store-port', String(storePort), '--config', configFile];
  const env = { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, PIPEWRIGHT_CONFIG: configFile, PIPEWRIGHT_DATABASE_URL: `postgres://postgres@127.0.0.1:${storePort}/postgres` };

  // Without PIPEWRIGHT_LINK_SECRETS, as on a fresh machine: dev makes a key and keeps it.
  const noKeys = { PIPEWRIGHT_LINK_SECRETS: '' };
  const keyFile = join(dataDir, 'link-secret');
  let dev = await startPipewright(args, noKeys, /Ctrl-C stops everything/);
  expect(dev.output()).toContain(`Unsubscribe links     signed with key "dev" (${keyFile}; set PIPEWRIGHT_LINK_SECRETS in production)`);
  const key = readFileSync(keyFile, 'utf8');
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(dev.output()).not.toContain(key.slice(4));
  expect(dev.output()).toContain(`Temporal dev server   127.0.0.1:${port}`);
  expect(dev.output()).toContain(`Temporal Web UI       http://127.0.0.1:${uiPort}`);
  expect(dev.output()).toContain(`Mail sink (SMTP)      smtp://127.0.0.1:${smtpPort}, messages saved in ${join(dataDir, 'mail')}`);
  expect(dev.output()).toContain(`Intake (HTTP)         http://127.0.0.1:${intakePort}`);
  expect(dev.output()).toContain(`Store (PostgreSQL)    postgres://postgres@127.0.0.1:${storePort}/postgres (PGlite, data in ${join(dataDir, 'store')}`);
  const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
  expect(ui.status).toBe(200);

  const lead = fittingLead();
  // The private API needs the key dev made and keeps for its user; without it, 401.
  const apiKeyFile = join(dataDir, 'api-key');
  expect(dev.output()).toContain(`API key               made in ${apiKeyFile}`);
  expect(statSync(apiKeyFile).mode & 0o777).toBe(0o600);
  const apiKey = readFileSync(apiKeyFile, 'utf8').trim();
  expect(dev.output()).not.toContain(apiKey);
  const refused = await fetch(`http://127.0.0.1:${intakePort}/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lead) });
  expect(refused.status).toBe(401);
  const added = await fetch(`http://127.0.0.1:${intakePort}/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(lead),
  });
  expect(added.status).toBe(201);
  await waitForOutput(dev.output, /mail: to \S+: "New inbound lead: Dana Whitfield/, 10_000);

  expect(await interrupt(dev.child)).toBe(0);
  expect(dev.output()).toContain('stopping: intake, mail sink, store, Temporal dev server');
  // Stopped before the deadline: the breach below can only come from the restarted process.
  expect(dev.output()).not.toContain('SLA breached');

  dev = await startPipewright(args, noKeys, /Ctrl-C stops everything/);
  // The same keys after the restart: links in e-mails already sent, and the user's API key, still work.
  expect(readFileSync(keyFile, 'utf8')).toBe(key);
  expect(dev.output()).toContain(`API key               kept in ${apiKeyFile}`);
  expect(readFileSync(apiKeyFile, 'utf8').trim()).toBe(apiKey);
  try {
    const shown = await pipewright(['lead', 'show', lead.email, '--json'], { env });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      stage: 'working',
      slas: expect.arrayContaining([expect.objectContaining({ name: 'inbound-first-touch', status: expect.stringMatching(/^(pending|breached)$/) })]),
    });
    await waitForOutput(dev.output, /mail: to alex\.kim@pipewright\.example, \S+: "SLA breached: Dana Whitfield/, 60_000);
    // The store kept what happened before the restart: the CLI reads it through the same port.
    // (The message reaches the sink a moment before the ledger records it as sent.)
    const sends = async () => JSON.parse((await pipewright(['contact', 'show', lead.email, '--json'], { env })).stdout).sends as { kind: string; channel: string; status: string }[];
    const settled = (all: { kind: string; channel: string; status: string }[]) =>
      ['rep-notice', 'sla-reminder', 'escalation'].every((kind) => all.some((m) => m.kind === kind && m.channel === 'email' && m.status === 'sent'));
    for (let i = 0; i < 20 && !settled(await sends()); i++) await new Promise((r) => setTimeout(r, 250));
    expect(await sends()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'rep-notice', status: 'sent' }),
        expect.objectContaining({ kind: 'sla-reminder', status: 'sent' }),
        expect.objectContaining({ kind: 'escalation', channel: 'email', status: 'sent' }),
      ]),
    );
    // The rep's notice, the rep's reminder halfway to the deadline, and the manager's breach: each once.
    const saved = readdirSync(join(dataDir, 'mail')).filter((f) => f.endsWith('.eml'));
    const subjects = saved.map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(dataDir, 'mail', f), 'utf8'))?.[1] ?? '').sort();
    expect(subjects).toEqual([
      expect.stringMatching(/^New inbound lead: Dana Whitfield/),
      expect.stringMatching(/^Reminder: the first touch on Dana Whitfield/),
      expect.stringMatching(/^SLA breached: Dana Whitfield/),
    ]);
  } finally {
    expect(await interrupt(dev.child)).toBe(0);
  }
});
