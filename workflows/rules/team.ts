import type { Role, TeamMember } from '../../config/schema';

/** Any config with a team: the current one, or one a running journey of an earlier version carries. */
type Config = { team: TeamMember[] };

/** Who works a lead of this source: inbound leads go to SDRs, outbound target accounts to BDRs. */
export function roleFor(source: 'inbound' | 'outbound'): Role {
  return source === 'inbound' ? 'sdr' : 'bdr';
}

export function membersWithRole(config: Config, role: Role): TeamMember[] {
  return config.team.filter((member) => member.role === role);
}

export function memberByEmail(config: Config, email: string): TeamMember {
  const member = config.team.find((m) => m.email.toLowerCase() === email.toLowerCase());
  if (!member) throw new Error(`no team member with e-mail ${email}`);
  return member;
}

/** A rep's own manager, else the team's first manager (the config guarantees there is one). */
export function managerOf(config: Config, rep: TeamMember): TeamMember {
  const managers = membersWithRole(config, 'manager');
  const own = rep.manager && managers.find((m) => m.email.toLowerCase() === rep.manager!.toLowerCase());
  const manager = own || managers[0];
  if (!manager) throw new Error('the team has no manager');
  return manager;
}

/**
 * Round robin that survives edits to the team: the rep after the last one assigned, in config
 * order; the first rep when the last one has left the team.
 */
export function nextInTurn(reps: readonly string[], lastAssigned: string | undefined): string {
  if (reps.length === 0) throw new Error('no reps to assign to');
  const last = lastAssigned === undefined ? -1 : reps.indexOf(lastAssigned);
  return reps[(last + 1) % reps.length]!;
}
