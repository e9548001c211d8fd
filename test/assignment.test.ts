// Lead assignment in the store, against both databases it runs on: one atomic step that is fair
// under concurrency, never exceeds a cap, serves waiting leads first come first served, and gives a
// lead the same rep however often it asks.
import { openStore, type AssignRequest, type AssignResult, type Assignment, type Candidate, type Store } from '../store';
import { STORE_BACKENDS, type Server } from './support/store';

jest.setTimeout(120_000);
const SERVER_START = 120_000;
const NOW = new Date('2026-03-04T02:00:00Z');

let serial = 0;
/** Each test gets its own reps, pools and leads, as the tests of one backend share a database. */
const unique = (prefix: string) => `${prefix}-${++serial}-${Date.now().toString(36)}`;

function rep(email: string, more: Partial<Candidate> = {}): Candidate {
  return { email, weight: 1, cap: 500, timezone: 'Asia/Seoul', workingHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-18:00' }, ...more };
}

/** n reps of a fresh team, e.g. rep-7-x-0@example.com. */
function team(n: number, more: Partial<Candidate> = {}): Candidate[] {
  const name = unique('rep');
  return Array.from({ length: n }, (_, i) => rep(`${name}-${i}@example.com`, more));
}

function request(pool: string, candidates: Candidate[], more: Partial<AssignRequest> = {}): Omit<AssignRequest, 'leadId'> {
  return { pool, rule: 'everyone else', strategy: 'round-robin', candidates, now: NOW, respectWorkingHours: false, ...more };
}

function assigned(result: AssignResult): Assignment {
  if (result.status !== 'assigned') throw new Error(`expected an assignment, got ${JSON.stringify(result)}`);
  return result.assignment;
}

function countByRep(results: AssignResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const { rep } = assigned(result);
    counts[rep] = (counts[rep] ?? 0) + 1;
  }
  return counts;
}

describe.each(STORE_BACKENDS)('assignment on %s', (_backend, startServer) => {
  let server: Server;
  let store: Store;

  beforeAll(async () => {
    server = await startServer();
    store = await openStore(server.url);
  }, SERVER_START);

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** Open leads of these reps, 0 for those without any. */
  async function openOf(reps: Candidate[]): Promise<number[]> {
    const open = await store.openLeads();
    return reps.map((r) => open.get(r.email) ?? 0);
  }

  describe('fair under concurrency', () => {
    test('1,000 leads at once into 4 round-robin reps: exactly 250 each, one open assignment per lead', async () => {
      const reps = team(4);
      const pool = unique('pool');
      const leads = Array.from({ length: 1000 }, (_, i) => `${pool}-lead-${i}`);
      const results = await Promise.all(leads.map((leadId) => store.assignLead({ leadId, ...request(pool, reps) })));
      expect(results.every((r) => r.status === 'assigned' && r.created)).toBe(true);
      expect(Object.values(countByRep(results))).toEqual([250, 250, 250, 250]);
      expect(await openOf(reps)).toEqual([250, 250, 250, 250]);
      expect(new Set(results.map((r) => assigned(r).leadId)).size).toBe(1000);
    });

    test('weighted 2:1:1, 1,000 at once: exactly 500/250/250', async () => {
      const [a, b, c] = team(3);
      const reps = [{ ...a!, weight: 2 }, b!, c!];
      const pool = unique('pool');
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => store.assignLead({ leadId: `${pool}-lead-${i}`, ...request(pool, reps, { strategy: 'weighted' }) })),
      );
      expect(countByRep(results)).toEqual({ [a!.email]: 500, [b!.email]: 250, [c!.email]: 250 });
    });

    test('least-loaded fills the emptiest rep first', async () => {
      const reps = team(2);
      const pool = unique('pool');
      const other = unique('pool');
      // Three leads for the first rep from another pool: the cap and the load count every pool.
      for (const i of [0, 1, 2]) await store.assignLead({ leadId: `${other}-${i}`, ...request(other, [reps[0]!]) });
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.assignLead({ leadId: `${pool}-${i}`, ...request(pool, reps, { strategy: 'least-loaded' }) })),
      );
      expect(countByRep(results)).toEqual({ [reps[0]!.email]: 1, [reps[1]!.email]: 4 });
    });
  });

  describe('caps and the queue', () => {
    test('4 reps with a cap of 10 and 100 leads at once: 40 assigned, 60 queued in order; 5 released, the 5 oldest waiting are assigned', async () => {
      const reps = team(4, { cap: 10 });
      const pool = unique('pool');
      const leads = Array.from({ length: 100 }, (_, i) => `${pool}-lead-${i}`);
      const results = await Promise.all(leads.map((leadId) => store.assignLead({ leadId, ...request(pool, reps) })));

      expect(results.filter((r) => r.status === 'assigned')).toHaveLength(40);
      expect(await openOf(reps)).toEqual([10, 10, 10, 10]);
      const queuedResults = results.flatMap((r, i) => (r.status === 'queued' ? [{ leadId: leads[i]!, ...r }] : []));
      expect(queuedResults).toHaveLength(60);
      expect(queuedResults.map((r) => r.position).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(queuedResults.every((r) => r.newlyQueued && r.pool === pool)).toBe(true);
      // Whoever was told the lowest position first: the queue is the order they were queued in.
      const waiting = await store.queued(pool);
      expect(waiting.map((w) => w.leadId)).toEqual([...queuedResults].sort((x, y) => x.position - y.position).map((r) => r.leadId));
      expect(waiting.map((w) => w.position)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      const first = queuedResults.find((r) => r.position === 1)!;
      expect(first.skipped).toEqual(reps.map((r) => ({ rep: r.email, reason: 'at cap: 10 open leads' })));

      // Asking again while everyone is full keeps the place.
      expect(await store.assignLead({ leadId: waiting[0]!.leadId, ...request(pool, reps) })).toMatchObject({ status: 'queued', position: 1, newlyQueued: false });

      const released = results.filter((r) => r.status === 'assigned').slice(0, 5).map(assigned);
      for (const a of released) expect(await store.releaseLead(a.leadId, 'disqualified')).toMatchObject({ leadId: a.leadId, status: 'closed', closeReason: 'disqualified' });
      const drained = await store.drainQueue(request(pool, reps));
      expect(drained.map((a) => a.leadId)).toEqual(waiting.slice(0, 5).map((w) => w.leadId));
      expect(drained.every((a) => a.status === 'open' && a.pool === pool && a.rule === 'everyone else')).toBe(true);
      expect(await openOf(reps)).toEqual([10, 10, 10, 10]);
      expect((await store.queued(pool)).map((w) => w.leadId)).toEqual(waiting.slice(5).map((w) => w.leadId));
      expect(await store.drainQueue(request(pool, reps))).toEqual([]);
    });

    test('first come first served: a new lead waits behind older ones, and only the head of the queue gets a freed rep by asking again', async () => {
      const reps = team(1, { cap: 1 });
      const pool = unique('pool');
      const ask = (leadId: string) => store.assignLead({ leadId, ...request(pool, reps) });
      expect((await ask(`${pool}-0`)).status).toBe('assigned');
      expect(await ask(`${pool}-1`)).toMatchObject({ status: 'queued', position: 1, newlyQueued: true });
      expect(await ask(`${pool}-2`)).toMatchObject({ status: 'queued', position: 2, newlyQueued: true });
      await store.releaseLead(`${pool}-0`, 'converted');

      expect(await ask(`${pool}-3`)).toMatchObject({ status: 'queued', position: 3, skipped: [] });
      expect(await ask(`${pool}-2`)).toMatchObject({ status: 'queued', position: 2, newlyQueued: false });
      expect(await ask(`${pool}-1`)).toMatchObject({ status: 'assigned', created: true, assignment: { rep: reps[0]!.email } });
      expect((await store.queued(pool)).map((w) => [w.leadId, w.position])).toEqual([[`${pool}-2`, 1], [`${pool}-3`, 2]]);
    });

    test('a cap counts a rep\'s open leads in every pool', async () => {
      const [shared, other] = team(2, { cap: 1 });
      const inbound = unique('pool');
      const enterprise = unique('pool');
      assigned(await store.assignLead({ leadId: `${inbound}-0`, ...request(inbound, [shared!]) }));
      const second = await store.assignLead({ leadId: `${enterprise}-0`, ...request(enterprise, [shared!, other!]) });
      expect(assigned(second).rep).toBe(other!.email);
      expect(assigned(second).why.skipped).toEqual([{ rep: shared!.email, reason: 'at cap: 1 open leads' }]);
      expect(await store.assignLead({ leadId: `${enterprise}-1`, ...request(enterprise, [shared!, other!]) })).toMatchObject({ status: 'queued', position: 1 });
    });
  });

  describe('idempotent per lead', () => {
    test('asking again, even many times at once, gives the same rep and writes nothing', async () => {
      const reps = team(3);
      const pool = unique('pool');
      const leadId = `${pool}-lead`;
      const results = await Promise.all(Array.from({ length: 20 }, () => store.assignLead({ leadId, ...request(pool, reps) })));
      expect(results.filter((r) => r.status === 'assigned' && r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => assigned(r).rep)).size).toBe(1);
      const again = await store.assignLead({ leadId, ...request(pool, reps) });
      expect(again).toEqual({ status: 'assigned', assignment: assigned(results[0]!), created: false });
      expect(await store.assignments(leadId)).toHaveLength(1);
      // The turn moved once: the next lead goes to the next rep.
      expect(assigned(await store.assignLead({ leadId: `${pool}-next`, ...request(pool, reps) })).rep).toBe(reps[1]!.email);
    });

    test('a released lead is closed once; asking again after that is a new assignment', async () => {
      const reps = team(2);
      const pool = unique('pool');
      const leadId = `${pool}-lead`;
      const first = assigned(await store.assignLead({ leadId, ...request(pool, reps) }));
      const at = new Date('2026-03-05T10:00:00Z');
      const closed = await store.releaseLead(leadId, 'closed-won', at);
      expect(closed).toMatchObject({ rep: first.rep, status: 'closed', closedAt: at, closeReason: 'closed-won' });
      expect(await store.releaseLead(leadId, 'again')).toEqual(closed);
      expect(await store.assignment(leadId)).toEqual(closed);
      expect(await store.releaseLead(`${pool}-never`, 'nothing')).toBeUndefined();
      const second = assigned(await store.assignLead({ leadId, ...request(pool, reps) }));
      expect(second.rep).toBe(reps[1]!.email);
      expect((await store.assignments(leadId)).map((a) => a.status)).toEqual(['closed', 'open']);
      expect(await store.assignment(leadId)).toEqual(second);
    });
  });

  describe('who may take a lead', () => {
    test('an away rep is skipped, and why.skipped says so until they are back', async () => {
      const reps = team(2);
      const pool = unique('pool');
      const until = new Date('2026-12-01T00:00:00Z');
      await store.setAway(reps[0]!.email.toUpperCase(), until, 'parental leave');
      expect(await store.awayReps(NOW)).toContainEqual({ email: reps[0]!.email, until, note: 'parental leave' });
      expect(await store.awayReps(until)).not.toContainEqual(expect.objectContaining({ email: reps[0]!.email }));

      const a = assigned(await store.assignLead({ leadId: `${pool}-0`, ...request(pool, reps) }));
      expect(a.rep).toBe(reps[1]!.email);
      expect(a.why).toEqual({ rule: 'everyone else', pool, strategy: 'round-robin', skipped: [{ rep: reps[0]!.email, reason: 'away until 2026-12-01' }] });
      // Back after `until`: the same absence no longer counts.
      const later = assigned(await store.assignLead({ leadId: `${pool}-1`, ...request(pool, reps, { now: until }) }));
      expect(later).toMatchObject({ rep: reps[0]!.email, why: { skipped: [] } });

      expect(await store.clearAway(reps[0]!.email)).toBe(true);
      expect(await store.clearAway(reps[0]!.email)).toBe(false);
    });

    test('a rep who left is skipped', async () => {
      const [gone, stays] = team(2);
      const pool = unique('pool');
      const reps = [{ ...gone!, left: '2026-03-01' }, stays!];
      const results = await Promise.all([0, 1, 2].map((i) => store.assignLead({ leadId: `${pool}-${i}`, ...request(pool, reps) })));
      expect(results.map((r) => assigned(r).rep)).toEqual([stays!.email, stays!.email, stays!.email]);
      expect(assigned(results[0]!).why.skipped).toEqual([{ rep: gone!.email, reason: 'left the team on 2026-03-01' }]);
    });

    test('nobody eligible: the lead is queued with every reason', async () => {
      const reps = team(2);
      const pool = unique('pool');
      await store.setAway(reps[1]!.email, new Date('2026-03-10T00:00:00Z'));
      const result = await store.assignLead({ leadId: `${pool}-0`, ...request(pool, reps, { respectWorkingHours: true, now: new Date('2026-03-04T12:00:00Z') }) });
      expect(result).toEqual({
        status: 'queued',
        pool,
        position: 1,
        newlyQueued: true,
        skipped: [
          { rep: reps[0]!.email, reason: 'outside working hours (09:00-18:00 Asia/Seoul, mon-fri)' },
          { rep: reps[1]!.email, reason: 'away until 2026-03-10' },
        ],
      });
      expect(await store.assignment(`${pool}-0`)).toBeUndefined();
    });
  });

  describe('reassignment at an SLA\'s second deadline', () => {
    test('another rep gets the lead, the old row is marked reassigned, and a retried call changes nothing', async () => {
      const reps = team(3);
      const pool = unique('pool');
      const leadId = `${pool}-lead`;
      const first = assigned(await store.assignLead({ leadId, ...request(pool, reps) }));
      expect(first.rep).toBe(reps[0]!.email);

      const later = new Date('2026-03-04T06:00:00Z');
      const moved = await store.assignLead({ leadId, ...request(pool, reps, { now: later, reassignFrom: first.rep.toUpperCase() }) });
      expect(moved).toMatchObject({ status: 'assigned', created: true });
      const second = assigned(moved);
      expect(second.rep).not.toBe(first.rep);
      expect(second.why.skipped).toContainEqual({ rep: first.rep, reason: 'previous owner' });
      expect(await store.assignments(leadId)).toEqual([
        { ...first, status: 'reassigned', closedAt: later, closeReason: `reassigned to ${second.rep}` },
        second,
      ]);
      const retried = await store.assignLead({ leadId, ...request(pool, reps, { now: later, reassignFrom: first.rep }) });
      expect(retried).toEqual({ status: 'assigned', assignment: second, created: false });
    });

    test('with nobody else eligible the lead stays with its owner, and the result says why', async () => {
      const [owner, full] = team(2, { cap: 1 });
      const pool = unique('pool');
      const other = unique('pool');
      assigned(await store.assignLead({ leadId: `${other}-0`, ...request(other, [full!]) }));
      const first = assigned(await store.assignLead({ leadId: `${pool}-0`, ...request(pool, [owner!, full!]) }));
      expect(first.rep).toBe(owner!.email);
      const result = await store.assignLead({ leadId: `${pool}-0`, ...request(pool, [owner!, full!], { reassignFrom: owner!.email }) });
      expect(result).toEqual({
        status: 'assigned',
        assignment: first,
        created: false,
        notReassigned: [
          { rep: owner!.email, reason: 'previous owner' },
          { rep: full!.email, reason: 'at cap: 1 open leads' },
        ],
      });
      expect(await store.assignments(`${pool}-0`)).toEqual([first]);
    });
  });

  describe('account owner first', () => {
    test('the owner of the lead\'s account gets it when eligible, whatever the pool\'s turn', async () => {
      const reps = team(3);
      const [owner] = team(1, { cap: 1 });
      const domain = `${unique('acme')}.com`;
      await store.upsertAccount({ domain: domain.toUpperCase(), name: 'Acme', owner: owner!.email.toUpperCase() });
      expect(await store.accountOwner(` ${domain}`)).toBe(owner!.email);
      // An account file without owners keeps the owner.
      await store.upsertAccount({ domain, name: 'Acme Inc.' });
      expect(await store.accountOwner(domain)).toBe(owner!.email);
      expect(await store.accountOwner('unknown.example')).toBeUndefined();

      const pool = unique('pool');
      const preferred = { rep: owner!, why: `owns ${domain}` };
      const won = assigned(await store.assignLead({ leadId: `${pool}-0`, ...request(pool, reps, { preferred }) }));
      expect(won).toMatchObject({ rep: owner!.email, pool, why: { preferred: `owns ${domain}`, skipped: [] } });

      // At cap now: passed over with the reason, and the pool's strategy picks as if the owner had not been tried.
      const skipped = assigned(await store.assignLead({ leadId: `${pool}-1`, ...request(pool, reps, { preferred }) }));
      expect(skipped.rep).toBe(reps[0]!.email);
      expect(skipped.why).toEqual({ rule: 'everyone else', pool, strategy: 'round-robin', skipped: [{ rep: owner!.email, reason: `at cap: 1 open leads (owns ${domain})` }] });
    });
  });
});
