// End to end on the Temporal dev server, the way an operator runs Pipewright: the `pipewright worker`
// process, the `pipewright lead ...` and `contact ...` commands, a real SMTP server receiving the
// mail, and the store on a real PostgreSQL server (the other tests use PGlite).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { signUnsubscribe } from '../activities/signedLinks';
import { startMailSink, type MailSink } from '../client/mailSink';
import { fittingLead, nurtureLead, sandboxConfigFile, sdrNoticeAbout } from './support/fixtures';
import { LEAD_EVENTS } from '../workflows/messages';
import { pipewright, startPipewright, stop } from './support/cli';
import { startPostgres } from './support/postgres';
import { devServerEnv } from './support/temporal';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../client/freePort';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-e2e-'));
// The example config with first-touch SLAs short enough to pass while the test waits (the outbound
// one on the plain clock, so it ends in 20 s whatever the BDR's working hours), and the sandbox on so
// a nurture e-mail goes now rather than at the contact's 08:00.
const configFile = sandboxConfigFile((yaml) =>
  replaceOnce(replaceOnce(yaml, '      within: 5m\n', '      within: 3s\n'), '      within: 24h\n      clock: business-hours\n', '      within: 20s\n'),
);
const sdrs = ['mina.park@pipewright.example', 'sam.rivera@pipewright.example'];
const manager = 'alex.kim@pipewright.example';

function replaceOnce(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)} in the example config`);
  return text.replace(from, to);
}

let env: TestWorkflowEnvironment;
let sink: MailSink;
let cliEnv: NodeJS.ProcessEnv;
let worker: ChildProcess;
let postgres: Awaited<ReturnType<typeof startPostgres>>;

const startWorker = async () => (await startPipewright(['worker'], cliEnv, /worker: polling task queue/)).child;

beforeAll(async () => {
  [env, sink, postgres] = await Promise.all([devServerEnv(), startMailSink(), startPostgres()]);
  cliEnv = {
    PIPEWRIGHT_DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    PIPEWRIGHT_TASK_QUEUE: 'e2e',
    PIPEWRIGHT_SMTP_URL: sink.url,
    PIPEWRIGHT_CONFIG: configFile,
  };
  worker = await startWorker();
});

afterAll(async () => {
  if (worker) await stop(worker);
  await sink?.close();
  await env?.teardown();
  await postgres?.stop();
});

async function addLead(lead: object): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(lead));
  const added = await pipewright(['lead', 'add', file], { env: cliEnv });
  expect(added).toMatchObject({ code: 0, stderr: '' });
  return added.stdout.trim();
}

type Sla = { name: string; kind: string; status: string; due: string; rungs: { kind: string; status: string; to?: string[] }[] };
async function show(id: string): Promise<{ stage: string; owner?: { email: string }; slas: Sla[] }> {
  const shown = await pipewright(['lead', 'show', '--id', id, '--json'], { env: cliEnv });
  expect(shown.code).toBe(0);
  return JSON.parse(shown.stdout);
}
const firstTouch = (s: { slas: Sla[] }) => s.slas.find((c) => c.kind === 'first-touch')!;

test('an inbound lead reaches its SDR by e-mail, and a missed first touch reaches the manager', async () => {
  const lead = fittingLead();
  const id = await addLead(lead);
  expect(id).toBe(`lead-${lead.email}`);

  const notice = await sink.waitFor(sdrNoticeAbout(lead));
  const owner = (await show(id)).owner!.email;
  expect(sdrs).toContain(owner);
  expect(notice.to).toEqual([owner]);

  const escalation = await sink.waitFor((m) => m.subject.startsWith('SLA breached') && m.text.includes(lead.email), 15_000);
  expect(escalation.to).toEqual([manager]);
  expect(escalation.cc).toEqual([owner]);
  // The e-mail reaches the sink a moment before the journey records the rung as sent.
  let shown = await show(id);
  for (const until = Date.now() + 10_000; firstTouch(shown).rungs.some((r) => r.kind === 'breach' && r.status === 'pending') && Date.now() < until; shown = await show(id)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(shown.stage).toBe('working');
  expect(firstTouch(shown)).toMatchObject({ name: 'inbound-first-touch', status: 'breached' });
  expect(firstTouch(shown).rungs.find((r) => r.kind === 'breach')).toMatchObject({ status: 'sent', to: expect.arrayContaining([manager]) });

  const human = await pipewright(['lead', 'show', '--id', id], { env: cliEnv });
  expect(human.stdout).toContain(`SLA:     inbound-first-touch (first-touch) for ${owner}, due`);
  expect(human.stdout).toMatch(/inbound-first-touch .*: breached\n/);
  expect(human.stdout).toMatch(new RegExp(`\\n    breach \\S+: sent to ${manager.replace(/\./g, '\\.')}`));
});

test('a touch in time is recorded and no escalation follows', async () => {
  // An outbound lead: its 20 s SLA leaves a busy machine room to start the CLI and touch in time.
  const lead = fittingLead({ source: 'outbound' });
  const id = await addLead(lead);
  const bdr = 'jordan.lee@pipewright.example';
  await sink.waitFor((m) => m.subject.startsWith('New outbound lead') && m.text.includes(lead.email) && m.to.includes(bdr));
  expect((await show(id)).owner!.email).toBe(bdr);
  // Only the owner's touch counts, so the BDR says who made it.
  expect(await pipewright(['lead', 'event', lead.email, 'touched', '--by', bdr, '--channel', 'call'], { env: cliEnv })).toMatchObject({ code: 0 });
  const touched = await show(id);
  expect(firstTouch(touched)).toMatchObject({ name: 'outbound-first-touch', status: 'met' });
  // Past the deadline, and then some: still met, and the manager never heard.
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(firstTouch(touched).due) - Date.now()) + 4_000));
  expect(firstTouch(await show(id)).status).toBe('met');
  expect(sink.messages.filter((m) => m.subject.startsWith('SLA breached') && m.text.includes(lead.email))).toHaveLength(0);
});

test('the SDR rotation keeps its turn across a restart of the worker', async () => {
  const ownerOf = async (lead: object) => {
    const id = await addLead(lead);
    for (;;) {
      const { owner } = await show(id);
      if (owner) return owner.email;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // End on the first SDR, so a rotation that forgot its turn would pick the first SDR again.
  let last = await ownerOf(fittingLead());
  if (last !== sdrs[0]) last = await ownerOf(fittingLead());
  expect(last).toBe(sdrs[0]);

  await stop(worker);
  worker = await startWorker();

  expect(await ownerOf(fittingLead())).toBe(sdrs[1]);
  expect(await ownerOf(fittingLead())).toBe(sdrs[0]);
});

test('a bad lead gets every problem named and starts nothing', async () => {
  const before = await env.client.workflow.count();
  const bad = { ...fittingLead(), email: 'not-an-address', employees: 'lots', source: 'web' };
  const result = await pipewright(['lead', 'add', '-'], { env: cliEnv, input: JSON.stringify(bad) });
  expect(result.code).toBe(1);
  expect(result.stderr.split('\n')).toEqual([
    'lead (stdin) is not valid:',
    'email: expected an e-mail address such as "jane@acme.com"',
    'employees: expected number, received string',
    'source: Invalid option: expected one of "inbound"|"outbound"',
    '',
  ]);
  expect(await env.client.workflow.count()).toEqual(before);
});

test('an event for an unknown lead, or an unknown event, is refused with a reason', async () => {
  expect(await pipewright(['lead', 'event', 'nobody@nowhere.example', 'touched'], { env: cliEnv })).toMatchObject({
    code: 1,
    stderr: 'pipewright: no journey for the address nobody@nowhere.example (looked for workflow ID lead-nobody@nowhere.example)\n',
  });
  const lead = fittingLead();
  const id = await addLead(lead);
  // A journey ID given where an address is expected is looked up as an address, never guessed.
  expect(await pipewright(['lead', 'event', id, 'touched'], { env: cliEnv })).toMatchObject({
    code: 1,
    stderr: `pipewright: no journey for the address ${id} (looked for workflow ID lead-${id}); if "${id}" is a journey ID, give it as an id (the CLI's --id)\n`,
  });
  expect(await pipewright(['lead', 'event', '--id', id, 'meeting'], { env: cliEnv })).toMatchObject({
    code: 1,
    stderr: `pipewright: event: "meeting" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}\n`,
  });
  expect((await show(id)).stage).toBe('working');
});

test('a lead re-added after its journey was deleted is still never mailed: the unsubscribe outlives the journey', async () => {
  const lead = nurtureLead();
  const id = await addLead(lead);
  await sink.waitFor((m) => m.to.includes(lead.email));
  expect(await pipewright(['lead', 'event', lead.email, 'unsubscribed'], { env: cliEnv })).toMatchObject({
    code: 0,
    stdout: `unsubscribed: ${lead.email} is suppressed on every channel and ${id} was stopped\n`,
  });
  await env.client.workflow.getHandle(id).result();
  const deletedRun = (await env.client.workflow.getHandle(id).describe()).runId;
  // What a namespace's retention period does to a closed journey, done at once.
  await env.client.workflowService.deleteWorkflowExecution({ namespace: env.namespace ?? 'default', workflowExecution: { workflowId: id } });
  // The server deletes asynchronously, and describe() may miss the run before it is really gone:
  // add the lead again until the closed journey no longer holds its ID (on a busy machine, over 30 s).
  const readd = () => pipewright(['lead', 'add', '-'], { env: cliEnv, input: JSON.stringify(lead) });
  let again = await readd();
  for (const until = Date.now() + 90_000; again.stderr.includes('already has a journey') && Date.now() < until; again = await readd()) {
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(again.code).toBe(0);
  expect(again.stderr).not.toContain('already has a journey');
  expect(again.stdout).toBe(`${id}\n`);
  expect(again.stderr).toContain(`${lead.email}: every channel suppressed since`);
  // Ask for the new run by its own ID, never the deleted one.
  let newRun = deletedRun;
  for (const until = Date.now() + 30_000; newRun === deletedRun && Date.now() < until; ) {
    newRun = await env.client.workflow.getHandle(id).describe().then((d) => d.runId, () => deletedRun);
    if (newRun === deletedRun) await new Promise((r) => setTimeout(r, 250));
  }
  expect(newRun).not.toBe(deletedRun);
  const ended = await env.client.workflow.getHandle(id, newRun).result();
  expect(ended).toMatchObject({ stage: 'ended', outcome: 'suppressed', sends: [{ status: 'skipped', detail: expect.stringContaining('suppressed: unsubscribed (cli') }] });
  expect(sink.messages.filter((m) => m.to.includes(lead.email))).toHaveLength(1);

  const shown = await pipewright(['contact', 'show', lead.email], { env: cliEnv });
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('every channel suppressed since');
  expect(shown.stdout).toMatch(/cadence to \S+: skipped \(suppressed: unsubscribed/);
  expect(shown.stdout).toMatch(/cadence to \S+: sent/);
});

test('an operator suppresses and lifts a suppression by channel', async () => {
  const email = `asked.by.phone.${Date.now()}@example.com`;
  expect(await pipewright(['contact', 'suppress', email, '--channel', 'sms', '--reason', 'asked by phone'], { env: cliEnv })).toMatchObject({ code: 0, stdout: `${email}: sms suppressed\n` });
  const json = JSON.parse((await pipewright(['contact', 'show', email, '--json'], { env: cliEnv })).stdout);
  expect(json.suppressions).toEqual([expect.objectContaining({ channel: 'sms', reason: 'asked by phone', source: 'cli' })]);
  expect(await pipewright(['contact', 'unsuppress', email, '--channel', 'sms'], { env: cliEnv })).toMatchObject({ code: 0, stdout: `${email}: 1 suppression(s) lifted\n` });
  const bad = await pipewright(['contact', 'suppress', email, '--channel', 'fax', '--reason', 'x'], { env: cliEnv });
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain("Allowed choices are email, sms, all");
});

test('lead list finds journeys by stage and owner', async () => {
  const lead = fittingLead();
  const id = await addLead(lead);
  await sink.waitFor(sdrNoticeAbout(lead));
  const owner = (await show(id)).owner!.email;
  const deadline = Date.now() + 20_000;
  let listed = '';
  while (!listed.includes(id) && Date.now() < deadline) {
    listed = (await pipewright(['lead', 'list', '--stage', 'working', '--owner', owner], { env: cliEnv })).stdout;
  }
  expect(listed).toContain(`${id}  running  working  ${owner}  inbound`);
  // The dev server registered the attributes at start, so setup has nothing to add.
  expect(await pipewright(['setup'], { env: cliEnv })).toMatchObject({ code: 0, stdout: "namespace default already has Pipewright's search attributes\n" });
});

test('pipewright intake with --public-port serves the private API and the public face on ports of their own', async () => {
  const [privatePort, publicPort] = [await freePort(), await freePort()];
  const key = (await pipewright(['apikey', 'create', '--name', 'e2e'], { env: cliEnv })).stdout.trim();
  const intake = await startPipewright(['intake', '--port', String(privatePort), '--public-port', String(publicPort), '--public-host', '127.0.0.1'], cliEnv, /intake: store /);
  try {
    expect(intake.output()).toContain(`intake (private API): listening on http://127.0.0.1:${privatePort}`);
    expect(intake.output()).toContain(`intake (public face): listening on http://127.0.0.1:${publicPort}`);
    const lead = fittingLead();
    const at = (port: number, path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init);
    const addLeadAt = (port: number) =>
      at(port, '/leads', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(lead) });
    expect((await addLeadAt(publicPort)).status).toBe(404);
    expect((await addLeadAt(privatePort)).status).toBe(201);
    const token = encodeURIComponent(signUnsubscribe({ journeyId: `lead-${lead.email}`, email: lead.email }));
    expect((await at(privatePort, `/unsubscribe?lead=${token}`)).status).toBe(404);
    expect((await at(publicPort, `/unsubscribe?lead=${token}`)).status).toBe(200);

    // SIGHUP re-reads the active config at once; without a handler it would end the process.
    intake.child.kill('SIGHUP');
    for (const until = Date.now() + 20_000; !/intake: SIGHUP: config version \d+ active/.test(intake.output()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    expect(intake.output()).toMatch(/intake: SIGHUP: config version \d+ active/);
    expect((await addLeadAt(privatePort)).status).toBe(200);
  } finally {
    await stop(intake.child);
  }
});
