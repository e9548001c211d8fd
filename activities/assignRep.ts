import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { Role } from '../config/schema';
import { assignNextRepUpdate, repRotationId } from '../workflows/messages';

export interface AssignRepInput {
  role: Role;
  /** The reps of that role, in config order, from the journey's own config snapshot. */
  reps: string[];
  leadId: string;
}

/**
 * Takes the next rep in turn from the role's rotation workflow, starting it the first time.
 * The update ID is the lead's, so a retried activity gets the same rep back instead of a new turn.
 */
export async function assignRep(client: Client, taskQueue: string, { role, reps, leadId }: AssignRepInput): Promise<string> {
  return client.workflow.executeUpdateWithStart(assignNextRepUpdate, {
    args: [{ reps }],
    updateId: `assign-${leadId}`,
    startWorkflowOperation: new WithStartWorkflowOperation('repRotation', {
      workflowId: repRotationId(role),
      taskQueue,
      args: [{ role }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}
