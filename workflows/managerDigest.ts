// Run by a Temporal Schedule each morning: one activity sends every manager their digest.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DigestResult } from '../activities/digest';
import { MESSAGE_DELIVERY } from './history';

const { sendManagerDigests } = proxyActivities<Activities>(MESSAGE_DELIVERY);

export const MANAGER_DIGEST_SCHEDULE = 'pipewright-manager-digest';

export async function managerDigest(): Promise<DigestResult[]> {
  // The schedule's fire time, not the worker's clock: a late run still covers the same day.
  return sendManagerDigests({ at: new Date(workflowInfo().startTime.getTime()).toISOString() });
}
