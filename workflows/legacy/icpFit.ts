import type { Lead } from '../../config/lead';

/** The ICP of config files before qualification was weighted (journeys of versions 1-3 carry it). */
export interface Icp {
  industries: string[];
  regions: string[];
  employees: { min: number; max?: number };
}

export interface IcpFit {
  fits: boolean;
  /** Why a lead does not fit, in words a rep or marketer can check against the config. */
  misses: string[];
}

// Firmographic fit: industry, region and head count must all match. Comparison ignores case and
// surrounding spaces, since forms and CRMs disagree on "Manufacturing" vs "manufacturing ".
export function icpFit(lead: Lead, icp: Icp): IcpFit {
  const misses: string[] = [];
  const norm = (s: string) => s.trim().toLowerCase();
  if (!icp.industries.map(norm).includes(norm(lead.industry))) {
    misses.push(`industry "${lead.industry}" is not one of ${icp.industries.join(', ')}`);
  }
  if (!icp.regions.map(norm).includes(norm(lead.region))) {
    misses.push(`region "${lead.region}" is not one of ${icp.regions.join(', ')}`);
  }
  const { min, max } = icp.employees;
  if (lead.employees < min || (max !== undefined && lead.employees > max)) {
    misses.push(`${lead.employees} employees is outside ${min}-${max ?? 'any'}`);
  }
  return { fits: misses.length === 0, misses };
}
