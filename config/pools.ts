import { poolMembers, type WorkingHours } from './routing';
import type { Config, TeamMember } from './schema';

// A pool's members as routing weighs them: the team member's own cap and hours, else routing's.

export interface PoolCandidate {
  email: string;
  weight: number;
  cap: number;
  timezone: string;
  workingHours: WorkingHours;
  /** ISO date the rep left the team, e.g. "2026-10-01". */
  left?: string;
}

type RoutingConfig = Pick<Config, 'routing' | 'team'>;

export function candidateOf(config: RoutingConfig, member: TeamMember, weight = 1): PoolCandidate {
  return {
    email: member.email,
    weight,
    cap: member.cap ?? config.routing.cap,
    timezone: member.timezone,
    workingHours: member.workingHours ?? config.routing.workingHours,
    ...(member.left !== undefined && { left: member.left }),
  };
}

/** In config order; a member no longer on the team is left out (the config check refuses that, but a journey's snapshot may be older). */
export function poolCandidates(config: RoutingConfig, pool: string): PoolCandidate[] {
  const definition = config.routing.pools[pool];
  if (!definition) return [];
  return poolMembers(definition).flatMap(({ email, weight }) => {
    const member = teamMember(config, email);
    return member ? [candidateOf(config, member, weight)] : [];
  });
}

export function teamMember(config: Pick<Config, 'team'>, email: string): TeamMember | undefined {
  return config.team.find((m) => m.email.toLowerCase() === email.toLowerCase());
}

/** The pools a rep is in: where a place they free up may go to a waiting lead. */
export function poolsOf(config: RoutingConfig, email: string): string[] {
  return Object.entries(config.routing.pools)
    .filter(([, pool]) => poolMembers(pool).some((m) => m.email.toLowerCase() === email.toLowerCase()))
    .map(([name]) => name);
}

/** Who hears that a pool is full: the pool's manager, else its first member's, else the team's first. */
export function poolManager(config: RoutingConfig, pool: string): TeamMember {
  const definition = config.routing.pools[pool];
  const managers = config.team.filter((m) => m.role === 'manager');
  const named = definition?.manager && teamMember(config, definition.manager);
  if (named) return named;
  const first = definition && teamMember(config, poolMembers(definition)[0]!.email);
  const own = first?.manager && teamMember(config, first.manager);
  return own || managers[0]!;
}
