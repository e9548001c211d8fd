// A team under a burst, on the Temporal dev server: 1,000 leads arriving at once are shared fairly
// and no rep goes over their cap; the leads that find the pool full wait in order and are assigned
// as reps free up. Then the operator's commands for the team (rep away / back / list, sla
// breaches) and the managers' digest, fired by its Temporal Schedule.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { ensureDigestSchedule } from '../client/digestSchedule';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import type { Config } from '../config/schema';
import { MANAGER_DIGEST_SCHEDULE } from '../workflows/managerDigest';
import { journeyStateQuery } from '../workflows/messages';
import { pipewright } from './support/cli';
import { fittingLead, sandboxConfig } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, devServerEnv, testWorker } from './support/temporal';

jest.setTimeout(900_000);

const LEADS = 1_000;
const CAP = 240;
const taskQueue = 'team-at-scale';
const reps = ['ana', 'ben', 'cho', 'dev'].map((name) => ({ name: `${name} Rep`, email: `${name}@pipewright.example`, role: 'sdr' as const, timezone: 'America/New_York', cap: CAP }));
const manager = 'alex.kim@pipewright.example';

// Four SDRs in one round-robin pool, each capped at 240 open leads: 960 places for 1,000 leads.
const config: Config = (() => {
  const c = structuredClone(sandboxConfig());
  c.team = [...c.team.filter((m) => m.role !== 'sdr'), ...reps];
  c.routing.pools['sdr-team'] = { strategy: 'round-robin', members: reps.map((r) => r.email) };
  // No SLA clocks here (test/routingSla.test.ts climbs the ladder): on a loaded machine the burst can
  // outlast the 5-minute first touch, and reminders and reassignments would move leads mid-count.
  c.sla.policies = [];
  return c;
})();

let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let worker: Worker;
let running: Promise<void>;
let cliEnv: NodeJS.ProcessEnv;
const leadIds: string[] = [];

beforeAll(async () => {
  let bundle;
  [env, sink, db, bundle] = await Promise.all([devServerEnv(), startMailSink(), embeddedTestStore(), bundleWorkflows()]);
  // The active config in the store is what routing reads, as in production.
  await db.store.applyConfig({ source: stringify(config), config, by: 'test' });
  worker = await testWorker(env, bundle, sink, db.store, taskQueue);
  running = worker.run();
  cliEnv = { PIPEWRIGHT_DATABASE_URL: db.url, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', PIPEWRIGHT_TASK_QUEUE: taskQueue };
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sink?.close();
  await db?.close();
  await env?.teardown();
});

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, ms = 600_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v))}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('1,000 leads at once into four round-robin SDRs capped at 240: exactly 240 each, 40 waiting in order, no cap ever exceeded', async () => {
  const leads = Array.from({ length: LEADS }, (_, i) => fittingLead({ email: `burst-${i}@scale-${i}.example` }));
  // All at once, as a form post burst arrives: the store decides, one atomic step per lead.
  const added = await Promise.all(leads.map((lead) => addLead(env.client, db.store, taskQueue, config, lead)));
  leadIds.push(...added.map((a) => a.leadId));
  const counts = await eventually(
    async () => ({ open: await db.store.openLeads(), queued: (await db.store.queued('sdr-team')).length }),
    ({ open, queued }) => [...open.values()].reduce((a, b) => a + b, 0) === reps.length * CAP && queued === LEADS - reps.length * CAP,
    'every lead assigned or queued',
  );
  expect(Object.fromEntries(counts.open)).toEqual(Object.fromEntries(reps.map((r) => [r.email, CAP])));
  // Waiting leads are numbered 1..40 in the order they reached the store.
  const queue = await db.store.queued('sdr-team');
  expect(queue.map((q) => q.position)).toEqual(Array.from({ length: LEADS - reps.length * CAP }, (_, i) => i + 1));
  // The manager heard about each waiting lead once.
  await eventually(async () => sink.messages.filter((m) => m.subject.startsWith('No rep free in sdr-team')).length, (n) => n === queue.length, 'the managers notices');
  // Every assigned lead's SDR was told, once.
  await eventually(async () => sink.messages.filter((m) => m.subject.startsWith('New inbound lead')).length, (n) => n >= reps.length * CAP, 'the rep notices');
  expect(sink.messages.filter((m) => m.subject.startsWith('New inbound lead'))).toHaveLength(reps.length * CAP);
});

test("ten of Ana's leads closing hand her places to the ten leads waiting longest, and nobody goes over the cap", async () => {
  const ana = reps[0]!.email;
  const waiting = (await db.store.queued('sdr-team')).slice(0, 10).map((q) => q.leadId);
  const hers: string[] = [];
  for (const id of leadIds) {
    if (hers.length === 10) break;
    if ((await db.store.assignment(id))?.rep === ana) hers.push(id);
  }
  await Promise.all(hers.map((id) => env.client.workflow.getHandle(id).signal('disqualified')));
  const open = await eventually(
    async () => ({ open: await db.store.openLeads(), queued: (await db.store.queued('sdr-team')).map((q) => q.leadId) }),
    ({ queued }) => queued.length === LEADS - reps.length * CAP - 10,
    'the waiting leads to take the freed places',
  );
  expect(open.open.get(ana)).toBe(CAP);
  for (const id of waiting) {
    const state = await eventually(() => env.client.workflow.getHandle(id).query(journeyStateQuery), (s) => s.owner !== undefined, `${id} to be assigned`);
    expect(state.owner!.email).toBe(ana);
    expect(open.queued).not.toContain(id);
  }
});

test('rep away, list and back through the CLI: an away rep is listed so and skipped, and back brings the waiting leads in', async () => {
  const ben = reps[1]!.email;
  const away = await pipewright(['rep', 'away', ben, '--until', '2099-01-01', '--note', 'parental leave'], { env: cliEnv });
  expect(away).toMatchObject({ code: 0 });
  expect(away.stdout).toContain('is away until 2099-01-01');
  const listed = await pipewright(['rep', 'list'], { env: cliEnv });
  expect(listed.stdout).toContain(`${ben}  sdr  ${CAP}/${CAP} open  sdr-team  away until 2099-01-01`);
  expect(listed.stdout).toMatch(/30 lead\(s\) waiting for a rep: sdr-team/);
  const unknown = await pipewright(['rep', 'away', 'nobody@pipewright.example', '--until', '2099-01-01'], { env: cliEnv });
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain('nobody@pipewright.example is not on the team');
  const back = await pipewright(['rep', 'back', ben], { env: cliEnv });
  expect(back).toMatchObject({ code: 0 });
  expect(back.stdout).toContain('is back');
});

test('apikey create, list and revoke through the CLI: the key is printed once, listed never, and stops working when revoked', async () => {
  const made = await pipewright(['apikey', 'create', '--name', 'hubspot webhook', '--daily-cap', '500'], { env: cliEnv });
  expect(made.code).toBe(0);
  const key = made.stdout.trim();
  expect(key).toMatch(/^pw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const id = key.slice(3, 15);
  expect(made.stderr).toContain(`API key ${id} ("hubspot webhook") made`);
  expect(await db.store.verifyApiKey(key)).toEqual({ id, name: 'hubspot webhook', dailyCap: 500 });
  const listed = await pipewright(['apikey', 'list'], { env: cliEnv });
  expect(listed.stdout).toMatch(new RegExp(`^${id}  \\S+ \\S+  \\S+ \\S+\\s+-\\s+500\\s+hubspot webhook$`, 'm'));
  expect(listed.stdout).not.toContain(key.slice(16));
  expect(await pipewright(['apikey', 'revoke', id], { env: cliEnv })).toMatchObject({ code: 0, stdout: `API key ${id} revoked: requests with it are answered 401 from now on\n` });
  expect(await db.store.verifyApiKey(key)).toBeUndefined();
  const again = await pipewright(['apikey', 'revoke', id], { env: cliEnv });
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain(`no live API key with id ${id}`);
  const unnamed = await pipewright(['apikey', 'create', '--name', ' '], { env: cliEnv });
  expect(unnamed.code).not.toBe(0);
  expect(unnamed.stderr).toContain('expected a name of 1-100 characters');
});

test("the managers' digest Schedule fires and the manager gets the day's numbers; sla breaches lists what it counted", async () => {
  // A breach to count: one lead's owner never touches it (5 minutes is too long to wait here, so the
  // breach is recorded as the journey records it).
  await db.store.recordEvents([{ key: 'digest-test-breach', journeyId: leadIds[0]!, type: 'sla-breached', at: new Date(), detail: { sla: 'inbound-first-touch', rep: reps[2]!.email, due: new Date().toISOString() } }]);
  const schedule = await ensureDigestSchedule(env.client, taskQueue, config);
  expect(schedule).toMatchObject({ id: MANAGER_DIGEST_SCHEDULE, created: true, at: '08:00' });
  await env.client.schedule.getHandle(MANAGER_DIGEST_SCHEDULE).trigger();
  const digest = await sink.waitFor((m) => m.subject.startsWith('Daily digest') && m.to.includes(manager), 60_000);
  expect(digest.subject).toBe('Daily digest: 1 SLA breach(es), 30 lead(s) waiting, 0 rep(s) away');
  expect(digest.text).toContain(`inbound-first-touch: ${reps[2]!.email} on ${leadIds[0]}`);
  const breaches = await pipewright(['sla', 'breaches', '--since', '1d', '--owner', reps[2]!.email], { env: cliEnv });
  expect(breaches.code).toBe(0);
  expect(breaches.stdout).toContain(`inbound-first-touch  ${reps[2]!.email}  ${leadIds[0]}`);
  expect(breaches.stderr).toContain('1 breach(es)');
  const none = await pipewright(['sla', 'breaches', '--owner', reps[3]!.email], { env: cliEnv });
  expect(none.stdout).toBe('');
  // A second run the same day sends nothing new: one digest per manager per day. It is triggered
  // once the first has finished: the Schedule skips a run that would overlap a running one.
  const handle = env.client.schedule.getHandle(MANAGER_DIGEST_SCHEDULE);
  const [first] = await eventually(async () => (await handle.describe()).info.recentActions, (actions) => actions.length >= 1, 'the first run', 60_000);
  await env.client.workflow.getHandle(first!.action.workflow.workflowId, first!.action.workflow.firstExecutionRunId).result();
  await handle.trigger();
  const second = await eventually(async () => (await handle.describe()).info.recentActions, (actions) => actions.length >= 2, 'the second run', 60_000);
  const run = second.at(-1)!.action.workflow;
  await env.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
  expect(sink.messages.filter((m) => m.subject.startsWith('Daily digest') && m.to.includes(manager))).toHaveLength(1);
});
