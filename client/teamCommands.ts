// `pipewright rep ...`, `pipewright sla ...` and `pipewright digest ...`: the team's availability,
// the SLA breaches managers watch, and their daily digest.
import type { Client } from '@temporalio/client';
import { Command, InvalidArgumentError, Option } from 'commander';
import { durationMs, isDuration } from '../config/duration';
import { poolsOf, teamMember } from '../config/pools';
import type { Store } from '../store';
import { MANAGER_DIGEST_SCHEDULE } from '../workflows/managerDigest';
import { routingChangedSignal } from '../workflows/messages';
import { positive, withClient, withStore } from './commandContext';
import { activeConfig, actor } from './configVersions';
import { ensureDigestSchedule } from './digestSchedule';

/** "2026-12-01" (midnight UTC), a full ISO instant, or a duration back from now ("7d"). */
function instant(value: string): Date {
  if (isDuration(value)) return new Date(Date.now() - durationMs(value));
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected a date such as "2026-12-01", an ISO time, or a duration such as "7d", got "${value}"`);
  return new Date(ms);
}

export function registerTeamCommands(program: Command): void {
  const rep = program.command('rep').description("reps' availability: out of office, back, open leads against their cap");

  rep
    .command('away <email>')
    .description('take a rep out of routing until a date: no new leads go to them (leads they own stay theirs)')
    .requiredOption('--until <date>', 'when they are back (e.g. 2026-12-07)', (v) => instant(v))
    .option('--note <text>', 'why, for the manager\'s digest ("vacation")')
    .action((email: string, opts: { until: Date; note?: string }) =>
      withStore(async (store) => {
        const { config } = await activeConfig(store, undefined, actor('first rep away'));
        const member = teamMember(config, email);
        if (!member) throw new InvalidArgumentError(`${email} is not on the team (the active config's team)`);
        if (opts.until.getTime() <= Date.now()) throw new InvalidArgumentError(`--until ${opts.until.toISOString()} is in the past`);
        await store.setAway(member.email, opts.until, opts.note);
        console.log(`${member.name} <${member.email}> is away until ${opts.until.toISOString()}: no new leads until then`);
      }),
    );

  rep
    .command('back <email>')
    .description('bring a rep back into routing now; leads waiting in their pools are offered to them at once')
    .action((email: string) =>
      withStore(async (store) => {
        const { config } = await activeConfig(store, undefined, actor('first rep back'));
        const member = teamMember(config, email);
        if (!member) throw new InvalidArgumentError(`${email} is not on the team (the active config's team)`);
        const wasAway = await store.clearAway(member.email);
        let woken = 0;
        const room = (member.cap ?? config.routing.cap) - ((await store.openLeads()).get(member.email.toLowerCase()) ?? 0);
        await withClient(async (client) => void (woken = await wakeWaiting(client, store, poolsOf(config, member.email), room)));
        console.log(`${member.name} is ${wasAway ? 'back' : 'not away (nothing to change)'}${woken ? `; ${woken} waiting lead(s) asked again` : ''}`);
      }),
    );

  rep
    .command('list')
    .description("every rep: role, pools, open leads against their cap, away until")
    .action(() =>
      withStore(async (store) => {
        const { config } = await activeConfig(store, undefined, actor('first rep list'));
        const [open, away] = await Promise.all([store.openLeads(), store.awayReps(new Date())]);
        for (const member of config.team.filter((m) => m.role !== 'manager')) {
          const absent = away.find((a) => a.email.toLowerCase() === member.email.toLowerCase());
          const cap = member.cap ?? config.routing.cap;
          const pools = poolsOf(config, member.email);
          console.log(
            [member.email, member.role, `${open.get(member.email.toLowerCase()) ?? 0}/${cap} open`, pools.length ? pools.join(',') : '(no pool)', member.left ? `left ${member.left}` : absent ? `away until ${absent.until.toISOString()}` : 'available'].join('  '),
          );
        }
        const waiting = await store.queued();
        if (waiting.length) console.log(`${waiting.length} lead(s) waiting for a rep: ${[...new Set(waiting.map((q) => q.pool))].join(', ')}`);
      }),
    );

  const sla = program.command('sla').description('SLA breaches, as managers watch them');
  sla
    .command('breaches')
    .description('list SLA breaches, newest last: when, which SLA, the rep, the lead')
    .option('--since <when>', 'from a date, an ISO time, or a duration back from now', (v) => instant(v), new Date(Date.now() - 7 * 86_400_000))
    .option('--owner <email>', "only this rep's breaches")
    .option('--limit <n>', 'at most this many', positive, 1000)
    .option('--json', 'print JSON lines')
    .action((opts: { since: Date; owner?: string; limit: number; json?: boolean }) =>
      withStore(async (store) => {
        const events = await store.events({ types: ['sla-breached'], since: opts.since, limit: opts.limit });
        const owner = opts.owner?.toLowerCase();
        const shown = events.filter((e) => !owner || String(e.detail?.rep ?? '').toLowerCase() === owner);
        for (const e of shown) {
          if (opts.json) console.log(JSON.stringify({ at: e.at, lead: e.journeyId, ...e.detail }));
          else console.log([e.at.toISOString(), String(e.detail?.sla ?? e.detail?.kind ?? 'first-touch'), String(e.detail?.rep ?? '-'), e.journeyId, `due ${String(e.detail?.due ?? '-')}`].join('  '));
        }
        if (!opts.json) console.error(`${shown.length} breach(es) since ${opts.since.toISOString()}${owner ? ` by ${owner}` : ''}`);
      }),
    );

  const digest = program.command('digest').description("the managers' daily digest: breaches, leads waiting, reps away");
  digest
    .command('schedule')
    .description('create or update the Temporal Schedule that sends it (pipewright dev does this at start)')
    .action(() =>
      withStore(async (store) => {
        const { config } = await activeConfig(store, undefined, actor('first digest schedule'));
        await withClient(async (client, taskQueue) => {
          const s = await ensureDigestSchedule(client, taskQueue, config);
          console.log(`${s.id}: ${s.created ? 'created' : 'updated'}, daily at ${s.at} ${s.timezone}`);
        });
      }),
    );
  digest
    .command('send')
    .description('send the digest now, through the schedule (needs the schedule: pipewright digest schedule)')
    .addOption(new Option('--wait', 'wait for the digests to go out and print them'))
    .action((opts: { wait?: boolean }) =>
      withClient(async (client) => {
        const handle = client.schedule.getHandle(MANAGER_DIGEST_SCHEDULE);
        await handle.trigger();
        console.log(`${MANAGER_DIGEST_SCHEDULE}: triggered`);
        if (!opts.wait) return;
        const deadline = Date.now() + 60_000;
        for (;;) {
          const recent = (await handle.describe()).info.recentActions.at(-1);
          if (recent) {
            const result = await client.workflow.getHandle(recent.action.workflow.workflowId, recent.action.workflow.firstExecutionRunId).result();
            console.log(JSON.stringify(result, null, 2));
            return;
          }
          if (Date.now() > deadline) throw new Error('the schedule did not start the digest within 60 s: is the worker running?');
          await new Promise((r) => setTimeout(r, 500));
        }
      }),
    );
}

/** Asks the leads waiting longest in these pools to try again, as many as the rep has room for. */
async function wakeWaiting(client: Client, store: Store, pools: string[], room: number): Promise<number> {
  if (room <= 0) return 0;
  const waiting = (await Promise.all(pools.map((pool) => store.queued(pool)))).flat().sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
  const first = waiting.slice(0, room);
  for (const lead of first) await client.workflow.getHandle(lead.leadId).signal(routingChangedSignal).catch(() => undefined);
  return first.length;
}
