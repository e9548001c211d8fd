// Each manager's daily digest: the SLA breaches of their reps in the last day, the leads waiting in
// full pools, and who is away. Sent once per manager per day (the key carries the date).
import type { Config, TeamMember } from '../config/schema';
import { poolManager } from '../config/pools';
import type { Store } from '../store';
import type { ActiveConfigSource } from './activeConfig';
import { deliver, type DeliveryResult } from './deliver';
import type { Mailer } from './mail';
import { localTime, messageId } from './mail';
import { managerOf } from '../workflows/rules/team';

const DAY_MS = 86_400_000;

export interface DigestInput {
  /** The digest's instant (the schedule's fire time): it covers the day before it. */
  at: string;
  /** Used when no config was ever applied to the store. */
  fallback?: Config;
}

export interface DigestResult {
  manager: string;
  breaches: number;
  waiting: number;
  away: number;
  status: DeliveryResult['status'];
}

export async function sendManagerDigests(deps: { store: Store; mailer: Mailer; configs: ActiveConfigSource }, input: DigestInput): Promise<DigestResult[]> {
  const config = (await deps.configs.get())?.config ?? input.fallback;
  if (!config) throw new Error('no active config: apply one with `pipewright config apply FILE`');
  const at = new Date(input.at);
  const since = new Date(at.getTime() - DAY_MS);
  const [breaches, queued, away] = await Promise.all([
    deps.store.events({ types: ['sla-breached'], since, limit: 10_000 }),
    deps.store.queued(),
    deps.store.awayReps(at),
  ]);
  const managers = config.team.filter((m) => m.role === 'manager');
  const managerFor = (email: string): TeamMember | undefined => {
    const rep = config.team.find((m) => m.email.toLowerCase() === email.toLowerCase());
    return rep ? managerOf(config, rep) : undefined;
  };
  const results: DigestResult[] = [];
  for (const manager of managers) {
    const mine = (email: string) => managerFor(email)?.email === manager.email;
    const theirBreaches = breaches.filter((e) => e.at < at && mine(String(e.detail?.rep ?? '')));
    const theirQueue = queued.filter((q) => poolManager(config, q.pool).email === manager.email);
    const theirAway = away.filter((a) => mine(a.email));
    const day = localTime(at.toISOString(), manager.timezone).slice(0, 10);
    const key = `digest/${manager.email}/${at.toISOString().slice(0, 10)}`;
    const text = [
      `Hi ${manager.name.split(' ')[0]},`,
      '',
      `Your team's last 24 hours, to ${localTime(at.toISOString(), manager.timezone)}.`,
      '',
      `SLA breaches: ${theirBreaches.length}`,
      ...theirBreaches.map((e) => `  ${e.at.toISOString()}  ${String(e.detail?.sla ?? 'sla')}: ${String(e.detail?.rep)} on ${e.journeyId}`),
      '',
      `Leads waiting for a rep: ${theirQueue.length}`,
      ...theirQueue.map((q) => `  ${q.leadId} in ${q.pool} since ${q.queuedAt.toISOString()} (position ${q.position})`),
      '',
      `Reps away: ${theirAway.length}`,
      ...theirAway.map((a) => `  ${a.email} until ${a.until.toISOString()}${a.note ? ` (${a.note})` : ''}`),
      '',
      'Details: pipewright sla breaches --since 1d',
    ].join('\n');
    const result = await deliver(deps, {
      key,
      journeyId: `digest-${manager.email}`,
      kind: 'digest',
      message: {
        from: { name: config.sender.name, address: config.sender.email },
        to: { name: manager.name, address: manager.email },
        messageId: messageId(`digest-${manager.email}`, day, config.sender.email),
        subject: `Daily digest: ${theirBreaches.length} SLA breach(es), ${theirQueue.length} lead(s) waiting, ${theirAway.length} rep(s) away`,
        text,
      },
    });
    results.push({ manager: manager.email, breaches: theirBreaches.length, waiting: theirQueue.length, away: theirAway.length, status: result.status });
  }
  return results;
}
