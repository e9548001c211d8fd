// A marketing e-mail from a cadence step, rendered from the config's templates for one lead.
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import type { NurtureStepV2 } from '../workflows/legacy/configV2';
import { renderTemplate } from '../config/template';
import type { EmailMessage } from './deliver';
import { messageId } from './mail';
import { signUnsubscribe } from './signedLinks';

export interface CadenceEmailInput {
  lead: Lead;
  leadId: string;
  cadence: string;
  stepIndex: number;
  step: NurtureStepV2;
  sender: Config['sender'];
  unsubscribe: Config['unsubscribe'];
}

/**
 * The link carries a signed token (signedLinks.ts), never the bare lead ID: `{{token}}` in the
 * config's URL, or `{{leadId}}` in configs written before links were signed.
 */
export function unsubscribeUrl(unsubscribe: Config['unsubscribe'], token: string): string {
  const value = encodeURIComponent(token);
  return renderTemplate(unsubscribe.url, { token: value, leadId: value });
}

/**
 * RFC 2369 List-Unsubscribe, plus RFC 8058 one-click for https links, which Gmail and Yahoo
 * require of bulk senders.
 */
export function unsubscribeHeaders(unsubscribe: Config['unsubscribe'], token: string): Record<string, string> {
  const url = unsubscribeUrl(unsubscribe, token);
  const targets = [`<${url}>`];
  if (unsubscribe.mailto) targets.push(`<mailto:${unsubscribe.mailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}>`);
  return {
    'List-Unsubscribe': targets.join(', '),
    ...(url.startsWith('https:') ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
  };
}

export function cadenceEmailMessage(input: CadenceEmailInput): EmailMessage {
  const { lead, leadId, cadence, stepIndex, step, sender, unsubscribe } = input;
  const token = signUnsubscribe({ journeyId: leadId, email: lead.email });
  const context = { lead, sender, unsubscribeUrl: unsubscribeUrl(unsubscribe, token) };
  return {
    from: { name: sender.name, address: sender.email },
    to: { address: lead.email },
    messageId: messageId(leadId, `${cadence}.${stepIndex + 1}`, sender.email),
    subject: renderTemplate(step.subject, context),
    text: renderTemplate(step.body, context),
    headers: unsubscribeHeaders(unsubscribe, token),
  };
}
