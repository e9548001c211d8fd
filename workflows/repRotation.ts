import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Role } from '../config/schema';
import { assignNextRepUpdate, rotationStateQuery } from './messages';
import { nextInTurn } from './rules/team';

export interface RepRotationInput {
  role: Role;
  lastAssigned?: string;
}

// Keeps the next turn bounded in history: after this many assignments the rotation starts afresh
// with only the last rep assigned carried over.
const ASSIGNMENTS_PER_RUN = 1000;

/**
 * One long-lived workflow per role that hands out reps in turn. Assignments are Temporal updates,
 * handled one at a time by the server, so concurrent leads and worker restarts never skip or
 * double a rep: the turn lives in this workflow's history, not in a worker's memory.
 */
export async function repRotation({ role, lastAssigned }: RepRotationInput): Promise<void> {
  let last = lastAssigned;
  let assigned = 0;
  setHandler(
    assignNextRepUpdate,
    ({ reps }) => {
      last = nextInTurn(reps, last);
      assigned++;
      return last;
    },
    {
      validator: ({ reps }) => {
        if (!Array.isArray(reps) || reps.length === 0) throw new Error(`no ${role} to assign to`);
      },
    },
  );
  setHandler(rotationStateQuery, () => ({ role, lastAssigned: last, assignedThisRun: assigned }));
  await condition(() => assigned >= ASSIGNMENTS_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof repRotation>({ role, lastAssigned: last });
}
