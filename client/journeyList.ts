// Journeys found through their search attributes: what `pipewright lead list` and the Web UI filter on.
import type { Client } from '@temporalio/client';
import type { JourneyState, Stage } from '../workflows/messages';
import { OWNER, SLA_STATUS, SOURCE, STAGE } from '../workflows/searchAttributes';

export const STAGES: Stage[] = ['qualifying', 'routing', 'queued', 'working', 'meeting', 'opportunity', 'nurturing', 'awaiting-reply', 'cooling-off', 'ended'];
export const SLA_STATUSES: JourneyState['slas'][number]['status'][] = ['pending', 'met', 'breached', 'stopped'];

export interface JourneyFilter {
  stage?: string;
  owner?: string;
  sla?: string;
}

export interface ListedJourney {
  leadId: string;
  status: string;
  startedAt: string;
  stage?: string;
  owner?: string;
  source?: string;
  sla?: string;
}

/** The visibility query for a filter; values are quoted so an address with a quote cannot widen it. */
export function journeyQuery({ stage, owner, sla }: JourneyFilter): string {
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const clauses = ["WorkflowType = 'leadJourney'"];
  if (stage) clauses.push(`${STAGE.name} = ${quote(stage)}`);
  if (owner) clauses.push(`${OWNER.name} = ${quote(owner.trim().toLowerCase())}`);
  if (sla) clauses.push(`${SLA_STATUS.name} = ${quote(sla)}`);
  return clauses.join(' AND ');
}

export async function* listJourneys(client: Client, filter: JourneyFilter, limit: number): AsyncGenerator<ListedJourney> {
  let n = 0;
  for await (const execution of client.workflow.list({ query: journeyQuery(filter) })) {
    if (n++ >= limit) return;
    const attributes = execution.typedSearchAttributes;
    yield {
      leadId: execution.workflowId,
      status: execution.status.name,
      startedAt: execution.startTime.toISOString(),
      stage: attributes.get(STAGE),
      owner: attributes.get(OWNER),
      source: attributes.get(SOURCE),
      sla: attributes.get(SLA_STATUS),
    };
  }
}
