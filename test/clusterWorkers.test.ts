// Pipewright on the production topology with more than one worker: the local cluster (the real
// Temporal server, 4 history shards, SQL visibility, all on PostgreSQL, the store there too) and two
// `pipewright worker` processes on one task queue, mailing a real SMTP server. One worker is killed
// with SIGKILL while journeys are in flight: every journey must still reach its SDR notice, SLA
// reminder and escalation (or its first nurture e-mail), each e-mail arriving exactly once and
// matching the store's send ledger one for one. Then, on the same cluster (its start is the slow
// part), the journey end to end through the HTTP intake and the managers' digest Schedule.
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { connectToCluster, startLocalCluster, type ClusterConnections, type LocalCluster } from '../client/cluster';
import { ensureDigestSchedule } from '../client/digestSchedule';
import { createIntake } from '../client/intake';
import { listJourneys } from '../client/journeyList';
import { addLead, showLead } from '../client/leads';
import { startMailSink, type MailSink, type ReceivedMail } from '../client/mailSink';
import type { Lead } from '../config/lead';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { openStore, type Store } from '../store';
import { MANAGER_DIGEST_SCHEDULE } from '../workflows/managerDigest';
import type { JourneyState } from '../workflows/messages';
import { startPipewright, stop } from './support/cli';
import { fittingLead, nurtureLead, sandboxConfigFile, sdrNoticeAbout } from './support/fixtures';
import { withClient } from './support/store';

// Cluster start (~15 s), two worker starts, and a takeover that waits out the dead worker's sticky
// queue and workflow task timeouts (10 s each) on a busy 2-core machine.
jest.setTimeout(300_000);

const taskQueue = 'cluster-workers';
const sdrs = ['mina.park@pipewright.example', 'sam.rivera@pipewright.example'];
const manager = 'alex.kim@pipewright.example';
// Inbound first touch due in 30 s: the reminder (at half) and the escalation fall due after the
// kill for every lead, so the surviving worker must pick up the timers of the dead one's journeys.
// Sandbox on, so the nurture guide goes now rather than at the contact's 08:00.
const configFile = sandboxConfigFile((yaml) => {
  const from = '      within: 5m\n';
  if (yaml.split(from).length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)} in the example config`);
  return yaml.replace(from, '      within: 30s\n');
});
// Wide: after the kill, a journey cached on the dead worker waits for its sticky queue's timeout,
// then a workflow task or activity it held waits for its own timeout (a store call: 1 minute).
const ALL_MAIL_WITHIN_MS = 180_000;

let cluster: LocalCluster;
let env: ClusterConnections;
let sink: MailSink;
let store: Store;
let storeUrl: string;
let config: Config;
const workers: ChildProcess[] = [];
/** Journeys whose first touch was breached and escalated in this file: what the digest must count. */
const escalated: string[] = [];

beforeAll(async () => {
  const log = (line: string) => process.stderr.write(`[clusterWorkers] ${line}\n`);
  [cluster, sink] = await Promise.all([startLocalCluster({ shards: 4, log }), startMailSink()]);
  env = await connectToCluster(cluster);
  // The store in a database of its own on the cluster's PostgreSQL; opened (and migrated) here
  // first, so the two workers do not race to migrate it.
  await withClient(cluster.postgresUrl, (client) => client.query('create database pipewright'));
  const url = new URL(cluster.postgresUrl);
  url.pathname = '/pipewright';
  storeUrl = url.toString();
  store = await openStore(storeUrl);
  config = loadConfig(configFile);
  const cliEnv: NodeJS.ProcessEnv = {
    PIPEWRIGHT_DATABASE_URL: storeUrl,
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    PIPEWRIGHT_TASK_QUEUE: taskQueue,
    PIPEWRIGHT_SMTP_URL: sink.url,
    PIPEWRIGHT_CONFIG: configFile,
  };
  const started = await Promise.all([0, 1].map(() => startPipewright(['worker'], cliEnv, /worker: polling task queue/)));
  workers.push(...started.map((s) => s.child));
});

afterAll(async () => {
  for (const worker of workers) await stop(worker);
  await store?.close();
  await sink?.close();
  await env?.close();
  await cluster?.stop();
});

/** The SDK's default worker identity, which the server writes into every task a worker starts. */
const identityOf = (worker: ChildProcess) => `${worker.pid}@${hostname()}`;

/** Who started the workflow tasks and activities of these journeys, from their histories. */
async function identitiesIn(journeyIds: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const id of journeyIds) {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.workflowTaskStartedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
      if (identity) seen.add(identity);
    }
  }
  return seen;
}

/** Polls until `attempt` gives a value; `what` is told when it never does (a function, to say how far it got). */
async function until<T>(what: string | (() => string), timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${typeof what === 'function' ? what() : what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

type Kind = 'notice' | 'reminder' | 'escalation' | 'nurture-guide';
/** What a received e-mail is, and about which lead: subjects name the lead by name only, so the lead is the one whose address the text carries. */
function classify(mail: ReceivedMail, leads: Lead[]): { kind: Kind | 'other'; lead?: string } {
  const lead = leads.find((l) => mail.text.includes(l.email) || mail.to.includes(l.email))?.email;
  if (mail.subject.startsWith('New inbound lead')) return { kind: 'notice', lead };
  if (mail.subject.startsWith('Reminder:')) return { kind: 'reminder', lead };
  if (mail.subject.startsWith('SLA breached')) return { kind: 'escalation', lead };
  if (mail.subject.includes('a guide for')) return { kind: 'nurture-guide', lead };
  return { kind: 'other', lead };
}

interface LedgerRow {
  key: string;
  journey_id: string;
  kind: string;
  recipient: string;
  status: string;
  message_id: string | null;
  attempts: number;
}

test('two workers share a task queue; one is SIGKILLed mid-run and every journey completes, no e-mail lost or sent twice outside the documented window of doubt', async () => {
  const inbound = Array.from({ length: 30 }, () => fittingLead());
  const nurture = Array.from({ length: 6 }, () => nurtureLead());
  const add = async (leads: Lead[]) => {
    // A few at a time, as an intake under load would.
    for (let i = 0; i < leads.length; i += 3) {
      const added = await Promise.all(leads.slice(i, i + 3).map((lead) => addLead(env.client, store, taskQueue, config, lead)));
      for (const a of added) expect(a).toMatchObject({ started: true });
    }
  };
  const firstHalf = [...inbound.slice(0, 15), ...nurture.slice(0, 3)];
  const secondHalf = [...inbound.slice(15), ...nurture.slice(3)];
  await add(firstHalf);

  // Both workers must have done work before one dies, or the test would prove nothing about sharing.
  const [survivor, victim] = workers as [ChildProcess, ChildProcess];
  const both = [identityOf(survivor), identityOf(victim)];
  const firstIds = firstHalf.map((l) => `lead-${l.email}`);
  await until('both workers seen in the journeys\' histories', 60_000, async () => {
    const seen = await identitiesIn(firstIds);
    return both.every((id) => seen.has(id)) ? true : undefined;
  });

  // Mid-run: the second half is being added while the worker dies, and every first-half journey
  // still has its reminder and escalation timers ahead of it.
  const adding = add(secondHalf);
  await new Promise<void>((resolve) => setImmediate(resolve));
  const killedAt = Date.now();
  victim.kill('SIGKILL');
  await until('the killed worker gone', 10_000, async () => (victim.signalCode !== null ? true : undefined));
  await adding;

  const allLeads = [...inbound, ...nurture];
  const expected = inbound.length * 3 + nurture.length;
  const counted = () => sink.messages.map((m) => classify(m, allLeads)).filter((c) => c.kind !== 'other' && c.lead);
  await until(() => `all ${expected} e-mails at the sink (have ${counted().length})`, ALL_MAIL_WITHIN_MS, async () => (counted().length >= expected ? true : undefined));
  const recoveredInS = ((Date.now() - killedAt) / 1000).toFixed(1);
  process.stderr.write(`[clusterWorkers] all ${expected} e-mails at the sink ${recoveredInS} s after the SIGKILL\n`);

  // Settled before counting: every journey has recorded each of its sends as done, so no attempt
  // is left in flight that could still send again, and the ledger holds no open claim.
  const states = new Map<string, JourneyState>();
  await until('every journey recorded its sends as sent', 60_000, async () => {
    for (const lead of allLeads) {
      if (states.has(lead.email)) continue;
      const state = await showLead(env.client, { email: lead.email });
      const firstTouch = state.slas.find((s) => s.kind === 'first-touch');
      const done = inbound.includes(lead)
        ? state.notice?.status === 'sent' && firstTouch?.rungs.filter((r) => r.kind !== 'reassign').every((r) => r.status === 'sent')
        : state.sends.some((s) => s.template === 'nurture-guide' && s.status === 'sent');
      if (done) states.set(lead.email, state);
    }
    return states.size === allLeads.length ? true : undefined;
  });
  const ledger = await withClient(storeUrl, async (client) => (await client.query<LedgerRow>(`select key, journey_id, kind, recipient, status, message_id, attempts from sends where channel = 'email'`)).rows);
  expect(ledger.filter((row) => row.status !== 'sent')).toEqual([]);

  // Once per lead, kind and recipient, counted at the SMTP server: nothing lost, nothing extra.
  const copies = new Map<string, ReceivedMail[]>();
  for (const mail of sink.messages) {
    const { kind, lead } = classify(mail, allLeads);
    const key = `${kind} ${lead ?? '?'} to ${mail.to.join(',')}`;
    copies.set(key, [...(copies.get(key) ?? []), mail]);
  }
  const want: string[] = [];
  for (const lead of inbound) {
    const owner = states.get(lead.email)!.owner!.email;
    expect(sdrs).toContain(owner);
    want.push(`notice ${lead.email} to ${owner}`, `reminder ${lead.email} to ${owner}`, `escalation ${lead.email} to ${manager}`);
  }
  for (const lead of nurture) want.push(`nurture-guide ${lead.email} to ${lead.email}`);
  expect([...copies.keys()].sort()).toEqual(want.sort());

  // Nothing sent twice, with the one exception the delivery design documents (README, "Delivery:
  // effectively once"): a worker killed after the SMTP server accepted a message and before the
  // ledger recorded it. The retry then sends it again, as the same message (same Message-ID) under
  // a claim the ledger counts twice. Any other second copy fails here.
  const attemptsOf = new Map(ledger.map((row) => [row.message_id, row.attempts]));
  const doubts: string[] = [];
  for (const [key, mails] of copies) {
    if (mails.length === 1) continue;
    const claims = attemptsOf.get(mails[0]!.messageId ?? null) ?? 0;
    const seen = { key, messageIds: [...new Set(mails.map((m) => m.messageId))], retriedClaim: claims >= mails.length };
    expect(seen).toEqual({ key, messageIds: [mails[0]!.messageId], retriedClaim: true });
    doubts.push(`${key} (${mails.length} copies, ${claims} claims)`);
  }
  process.stderr.write(`[clusterWorkers] second copies from the kill's window of doubt: ${doubts.length ? doubts.join('; ') : 'none'}\n`);
  // One worker died once: at most the few sends it had in flight at that instant.
  expect(doubts.length).toBeLessThanOrEqual(3);

  // The ledger and the sink agree one for one: one settled row per distinct message, by its Message-ID.
  const atSink = [...new Set(sink.messages.map((m) => m.messageId))].sort();
  expect(ledger.map((row) => row.message_id).sort()).toEqual(atSink);
  expect(atSink).toHaveLength(expected);

  // The takeover itself: journeys the killed worker had run were carried on by the survivor (their
  // escalations fell due after the kill), read from the workflow tasks' identities in their histories.
  let takenOver = 0;
  for (const id of firstIds) {
    const events = (await env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const startedBy = events.map((e) => e.workflowTaskStartedEventAttributes?.identity).filter((i): i is string => Boolean(i));
    const lastByVictim = startedBy.lastIndexOf(identityOf(victim));
    if (lastByVictim >= 0 && startedBy.slice(lastByVictim + 1).includes(identityOf(survivor))) takenOver++;
  }
  process.stderr.write(`[clusterWorkers] ${takenOver} of ${firstIds.length} first-half journeys run by the killed worker were carried on by the survivor\n`);
  expect(takenOver).toBeGreaterThan(0);
  escalated.push(...inbound.map((l) => `lead-${l.email}`));

  // The survivor carried on alone; the killed worker never came back.
  expect(survivor.exitCode).toBeNull();
  expect(victim.signalCode).toBe('SIGKILL');
});

test('end to end on the cluster: intake -> SDR notice -> escalation, search-attribute filtering, and an unsubscribe link that stops the cadence with the suppression stored', async () => {
  // The HTTP intake as a team would run it beside the workers; its first lead applies the config
  // file (the 30 s first touch) as the store's first version.
  const intake = createIntake({ client: env.client, store, taskQueue, configFile, log: (line) => process.stderr.write(`[clusterWorkers] ${line}\n`) });
  const base = await intake.listen({ host: '127.0.0.1', port: 0 });
  try {
    const auth = { authorization: `Bearer ${(await store.createApiKey('cluster e2e')).key}` };
    const postLead = (lead: Lead) => fetch(`${base}/leads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(lead) });

    const lead = fittingLead();
    const nurtured = nurtureLead();
    const [posted, postedNurture] = await Promise.all([postLead(lead), postLead(nurtured)]);
    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ leadId: `lead-${lead.email}`, started: true });
    expect(postedNurture.status).toBe(201);

    const notice = await sink.waitFor(sdrNoticeAbout(lead), 60_000);
    const owner = (await showLead(env.client, { email: lead.email })).owner!.email;
    expect(sdrs).toContain(owner);
    expect(notice.to).toEqual([owner]);

    // The unsubscribe link from the nurture e-mail, posted one-click as a mail client would.
    const guide = await sink.waitFor((m) => m.to.includes(nurtured.email), 60_000);
    const link = /Unsubscribe: (https:\S+)/.exec(guide.text)?.[1];
    expect(link).toBeDefined();
    const token = new URL(link!).searchParams.get('lead')!;
    const unsubscribed = await fetch(`${base}/unsubscribe?lead=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.status).toBe(200);
    expect(await env.client.workflow.getHandle(`lead-${nurtured.email}`).result()).toMatchObject({ stage: 'ended', outcome: 'unsubscribed' });
    expect(await store.suppressionFor(nurtured.email, 'email')).toMatchObject({ channel: 'all', reason: 'unsubscribed', source: 'link' });

    // The first touch was never made: at 30 s the manager hears, the owner in copy.
    const escalation = await sink.waitFor((m) => m.subject.startsWith('SLA breached') && m.text.includes(lead.email), 120_000);
    expect(escalation.to).toEqual([manager]);
    expect(escalation.cc).toEqual([owner]);
    escalated.push(`lead-${lead.email}`);

    // SQL visibility on PostgreSQL filters by the attributes the journey publishes; the record
    // follows the journey by a moment, so it is asked until it is there.
    const found = await until('the breached journey listed by owner, stage and SLA status', 30_000, async () => {
      for await (const journey of listJourneys(env.client, { owner, stage: 'working', sla: 'breached' }, 200)) {
        if (journey.leadId === `lead-${lead.email}`) return journey;
      }
      return undefined;
    });
    expect(found).toMatchObject({ status: 'RUNNING', stage: 'working', owner, source: 'inbound', sla: 'breached' });
    const ended = await until('the unsubscribed journey listed as ended', 30_000, async () => {
      const ids: string[] = [];
      for await (const journey of listJourneys(env.client, { stage: 'ended' }, 200)) ids.push(journey.leadId);
      return ids.includes(`lead-${nurtured.email}`) ? ids : undefined;
    });
    expect(ended).not.toContain(`lead-${lead.email}`);

    // The unsubscribed contact heard nothing after the one e-mail the link came in.
    expect(sink.messages.filter((m) => m.to.includes(nurtured.email))).toHaveLength(1);
  } finally {
    await intake.close();
  }
});

test("the managers' digest Schedule fires on the cluster's scheduler, the surviving worker runs it, and it counts every breach the journeys recorded, once a day", async () => {
  // Runs on what the tests above left: their escalated journeys. Each journey writes its breach to
  // the store's event log shortly after the e-mail, so the digest is fired once all are there.
  expect(escalated.length).toBeGreaterThan(0);
  await until(`${escalated.length} sla-breached events in the store`, 60_000, async () => {
    const events = await store.events({ types: ['sla-breached'], limit: 10_000 });
    return events.length >= escalated.length ? true : undefined;
  });
  const breaches = await store.events({ types: ['sla-breached'], limit: 10_000 });
  expect(breaches.map((e) => e.journeyId).sort()).toEqual([...escalated].sort());

  const schedule = await ensureDigestSchedule(env.client, taskQueue, config);
  expect(schedule).toMatchObject({ id: MANAGER_DIGEST_SCHEDULE, created: true, at: '08:00' });
  const handle = env.client.schedule.getHandle(MANAGER_DIGEST_SCHEDULE);
  await handle.trigger();
  const isDigest = (m: ReceivedMail) => m.subject.startsWith('Daily digest') && m.to.includes(manager);
  const digest = await sink.waitFor(isDigest, 90_000);
  expect(digest.subject).toBe(`Daily digest: ${escalated.length} SLA breach(es), 0 lead(s) waiting, 0 rep(s) away`);
  for (const id of escalated) expect(digest.text).toContain(` on ${id}`);

  // A second run the same day sends nothing new: one digest per manager per day. It is triggered
  // once the first has finished: the Schedule skips a run that would overlap a running one.
  const first = await until('the schedule\'s first run', 60_000, async () => (await handle.describe()).info.recentActions[0]);
  await env.client.workflow.getHandle(first.action.workflow.workflowId, first.action.workflow.firstExecutionRunId).result();
  await handle.trigger();
  const second = await until('the schedule\'s second run', 60_000, async () => {
    const actions = (await handle.describe()).info.recentActions;
    return actions.length >= 2 ? actions.at(-1)! : undefined;
  });
  const run = second.action.workflow;
  await env.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
  expect(sink.messages.filter(isDigest)).toHaveLength(1);
});
