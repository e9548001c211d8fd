import type { Client } from '@temporalio/client';
import { requestRep, type RepRequestInput } from './requestRep';
import { sendCadenceEmail, type CadenceEmailInput } from './cadenceEmail';
import type { Mailer } from './mail';
import { escalateSlaBreach, notifyRep, type EscalationInput, type NotifyRepInput } from './repNotices';

export interface ActivityDeps {
  /** Talks to Temporal for the rep rotation; the worker's own connection. */
  client: Client;
  taskQueue: string;
  mailer: Mailer;
}

/** Every side effect a journey has, with its clients injected so no secret is imported by workflows. */
export function createActivities({ client, taskQueue, mailer }: ActivityDeps) {
  return {
    requestRep: (input: RepRequestInput) => requestRep(client, taskQueue, input),
    notifyRep: (input: NotifyRepInput) => notifyRep(mailer, input),
    escalateSlaBreach: (input: EscalationInput) => escalateSlaBreach(mailer, input),
    sendCadenceEmail: (input: CadenceEmailInput) => sendCadenceEmail(mailer, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
