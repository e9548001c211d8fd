import { condition, continueAsNew, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Role } from '../config/schema';
import { repAssignedSignal, repRequestedSignal, rotationStateQuery } from './messages';
import { nextInTurn } from './rules/team';

interface RepRequest {
  leadId: string;
  reps: string[];
}

export interface RepRotationInput {
  role: Role;
  lastAssigned?: string;
  /** Requests that arrived while the previous run was handing over. */
  waiting?: RepRequest[];
}

// Keeps the rotation's history bounded: after this many assignments it starts afresh, carrying
// over only the last rep assigned and any requests still waiting.
const ASSIGNMENTS_PER_RUN = 1000;

/**
 * One long-lived workflow per role that hands out reps in turn. Leads ask by signal and are
 * answered by signal, so a burst of leads is served in batches, one workflow task for many
 * assignments, and the turn lives in this workflow's history: worker restarts and concurrent
 * leads never skip or double a rep.
 */
export async function repRotation({ role, lastAssigned, waiting = [] }: RepRotationInput): Promise<void> {
  let last = lastAssigned;
  const queue = [...waiting];
  // A retried request (the asking activity ran twice) gets the same rep, not a second turn.
  const assigned = new Map<string, string>();
  const replies: Promise<void>[] = [];
  setHandler(repRequestedSignal, (request) => void queue.push(request));
  setHandler(rotationStateQuery, () => ({ role, lastAssigned: last, assignedThisRun: assigned.size }));

  while (assigned.size < ASSIGNMENTS_PER_RUN && !workflowInfo().continueAsNewSuggested) {
    await condition(() => queue.length > 0);
    for (const { leadId, reps } of queue.splice(0)) {
      let rep = assigned.get(leadId);
      if (!rep) {
        rep = last = nextInTurn(reps, last);
        assigned.set(leadId, rep);
      }
      // A lead that ended meanwhile (unsubscribed) cannot be told; its turn is simply used.
      replies.push(getExternalWorkflowHandle(leadId).signal(repAssignedSignal, { rep }).catch(() => undefined));
    }
  }
  await Promise.all(replies);
  await continueAsNew<typeof repRotation>({ role, lastAssigned: last, waiting: queue });
}
