import type { Client } from '@temporalio/client';
import type { Role } from '../config/schema';
import { repRequestedSignal, repRotationId } from '../workflows/messages';

export interface RepRequestInput {
  role: Role;
  /** The reps of that role, in config order, from the journey's own config snapshot. */
  reps: string[];
  leadId: string;
}

/**
 * Asks the role's rotation workflow for the next rep, starting the rotation the first time.
 * The answer comes back to the lead as a `repAssigned` signal.
 */
export async function requestRep(client: Client, taskQueue: string, { role, reps, leadId }: RepRequestInput): Promise<void> {
  await client.workflow.signalWithStart('repRotation', {
    workflowId: repRotationId(role),
    taskQueue,
    args: [{ role }],
    signal: repRequestedSignal,
    signalArgs: [{ leadId, reps }],
  });
}
