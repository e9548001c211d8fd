// The managers' daily digest as a Temporal Schedule: created (or brought up to date) by
// `pipewright dev` and `pipewright digest schedule`, visible and pausable in the Web UI.
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config/schema';
import { MANAGER_DIGEST_SCHEDULE } from '../workflows/managerDigest';

export interface DigestSchedule {
  id: string;
  created: boolean;
  at: string;
  timezone: string;
}

export async function ensureDigestSchedule(client: Client, taskQueue: string, config: Config): Promise<DigestSchedule> {
  const [hour, minute] = config.sla.digest.at.split(':').map(Number) as [number, number];
  const timezone = config.sla.digest.timezone ?? config.sending.timezone;
  const options: ScheduleOptions = {
    scheduleId: MANAGER_DIGEST_SCHEDULE,
    spec: { calendars: [{ hour, minute }], timezone },
    action: { type: 'startWorkflow', workflowType: 'managerDigest', taskQueue, workflowId: 'manager-digest', args: [] },
    // A digest missed while the server was down is sent once when it is back, not once per missed day.
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
  };
  const found = { id: MANAGER_DIGEST_SCHEDULE, at: config.sla.digest.at, timezone };
  try {
    await client.schedule.create(options);
    return { ...found, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(MANAGER_DIGEST_SCHEDULE).update((previous) => ({ ...previous, spec: options.spec, action: options.action }));
    return { ...found, created: false };
  }
}
