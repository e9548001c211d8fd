// The activities journeys of the first version call (input without `version`): the same names and
// inputs as then, now delivered through the send ledger and the suppression check like every message.
import { cadenceEmailMessage, type CadenceEmailInput } from './cadenceEmail';
import { deliver, type DeliveryDeps } from './deliver';
import { escalationMessage, repNoticeMessage, type EscalationInput, type NotifyRepInput } from './repNotices';

export function createLegacyActivities(deps: DeliveryDeps) {
  const key = (leadId: string, what: string) => `${leadId}/v1/${what}`;
  return {
    notifyRep: async (input: NotifyRepInput): Promise<void> => {
      await deliver(deps, { key: key(input.leadId, 'assigned'), journeyId: input.leadId, kind: 'rep-notice', message: repNoticeMessage(input) });
    },
    escalateSlaBreach: async (input: EscalationInput): Promise<void> => {
      await deliver(deps, { key: key(input.leadId, 'first-touch-breach'), journeyId: input.leadId, kind: 'escalation', message: escalationMessage(input) });
    },
    sendCadenceEmail: async (input: CadenceEmailInput): Promise<{ subject: string }> => {
      const message = cadenceEmailMessage(input);
      const what = `${input.cadence}.${input.stepIndex + 1}`;
      await deliver(deps, { key: key(input.leadId, what), journeyId: input.leadId, kind: 'cadence', message });
      return { subject: message.subject };
    },
  };
}
