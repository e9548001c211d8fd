// What the outside world can say to a lead's journey, and ask of it. The client imports these
// definitions (not the workflow code) to signal and query journeys by name.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Config, Role } from '../config/schema';
import type { Lead } from '../config/lead';
import type { IcpFit } from './rules/icpFit';

export interface JourneyInput {
  lead: Lead;
  /** The config as it was when the lead arrived: editing the file never changes a running journey. */
  config: Config;
}

export type Stage = 'qualifying' | 'working' | 'nurturing' | 'nurture-complete' | 'unsubscribed';

export interface JourneyState {
  leadId: string;
  email: string;
  stage: Stage;
  qualification?: IcpFit;
  owner?: { name: string; email: string; role: Role; assignedAt: string };
  sla?: {
    kind: 'first-touch';
    due: string;
    status: 'pending' | 'met' | 'breached' | 'stopped';
    escalatedTo?: string;
  };
  touches: { cadence: 'nurture'; step: number; subject: string; sentAt: string }[];
  next?: { what: string; dueAt: string };
  /** When the owner first touched the lead (call, e-mail, social), as the rep or CRM reported it. */
  firstTouchAt?: string;
  repliedAt?: string;
  unsubscribedAt?: string;
}

/** Events reps and CRMs send back, by the names the CLI and integrations use. */
export const touchedSignal = defineSignal('touched');
export const repliedSignal = defineSignal('replied');
export const unsubscribedSignal = defineSignal('unsubscribed');
export const LEAD_EVENTS = ['touched', 'replied', 'unsubscribed'] as const;
export type LeadEvent = (typeof LEAD_EVENTS)[number];

export const journeyStateQuery = defineQuery<JourneyState>('state');

/** A lead asks the rotation of one role for the next rep in turn... */
export const repRequestedSignal = defineSignal<[{ leadId: string; reps: string[] }]>('repRequested');
/** ...and the rotation answers the lead with the rep's e-mail. */
export const repAssignedSignal = defineSignal<[{ rep: string }]>('repAssigned');
export const rotationStateQuery = defineQuery<{ role: Role; lastAssigned?: string; assignedThisRun: number }>('rotation');

export function repRotationId(role: Role): string {
  return `rep-rotation-${role}`;
}
