// A marketing e-mail from a cadence step, rendered from the config's templates for one lead.
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import type { NurtureStepV2 } from '../workflows/legacy/configV2';
import { renderTemplate } from '../config/template';
import type { EmailMessage } from './deliver';
import { messageId } from './mail';

export interface CadenceEmailInput {
  lead: Lead;
  leadId: string;
  cadence: string;
  stepIndex: number;
  step: NurtureStepV2;
  sender: Config['sender'];
  unsubscribe: Config['unsubscribe'];
}

export function unsubscribeUrl(unsubscribe: Config['unsubscribe'], leadId: string): string {
  return renderTemplate(unsubscribe.url, { leadId: encodeURIComponent(leadId) });
}

/**
 * RFC 2369 List-Unsubscribe, plus RFC 8058 one-click for https links, which Gmail and Yahoo
 * require of bulk senders.
 */
export function unsubscribeHeaders(unsubscribe: Config['unsubscribe'], leadId: string): Record<string, string> {
  const url = unsubscribeUrl(unsubscribe, leadId);
  const targets = [`<${url}>`];
  if (unsubscribe.mailto) targets.push(`<mailto:${unsubscribe.mailto}?subject=${encodeURIComponent(`unsubscribe ${leadId}`)}>`);
  return {
    'List-Unsubscribe': targets.join(', '),
    ...(url.startsWith('https:') ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
  };
}

export function cadenceEmailMessage(input: CadenceEmailInput): EmailMessage {
  const { lead, leadId, cadence, stepIndex, step, sender, unsubscribe } = input;
  const context = { lead, sender, unsubscribeUrl: unsubscribeUrl(unsubscribe, leadId) };
  return {
    from: { name: sender.name, address: sender.email },
    to: { address: lead.email },
    messageId: messageId(leadId, `${cadence}.${stepIndex + 1}`, sender.email),
    subject: renderTemplate(step.subject, context),
    text: renderTemplate(step.body, context),
    headers: unsubscribeHeaders(unsubscribe, leadId),
  };
}
