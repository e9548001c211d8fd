// The config shape journeys of versions 1 and 2 carry in their input: one e-mail nurture cadence,
// written inline. Frozen with those journeys; the config file's schema has moved on (config/schema.ts).
import type { TeamMember } from '../../config/schema';
import type { Icp } from './icpFit';

export interface NurtureStepV2 {
  wait: string;
  subject: string;
  body: string;
}

export interface ConfigV2 {
  sender: { name: string; email: string };
  unsubscribe: { url: string; mailto?: string };
  team: TeamMember[];
  icp: Icp;
  sla: { firstTouch: { inbound?: string; outbound?: string } };
  cadences: { nurture: { steps: NurtureStepV2[] } };
  journey: { replyWindow: string; endAfterInactivity: string };
}
