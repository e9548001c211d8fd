// A cadence's messages: touches to a contact (e-mail, SMS) under the contact's and the mailbox's
// limits, and tasks for the owner (a call, a LinkedIn message) that go out at once by e-mail.
import type { Config, Template } from '../config/schema';
import { renderMessage, type TemplateContext } from '../config/template';
import type { Store } from '../store';
import type { ActiveConfigSource } from './activeConfig';
import type { TouchLimits } from '../workflows/rules/touchLimits';
import { unsubscribeHeaders, unsubscribeUrl } from './cadenceEmail';
import { signUnsubscribe } from './signedLinks';
import { deliver, emailTransport, sendClaimed, type DeliveryResult, type Transport } from './deliver';
import { fullName, messageId, type Mailer } from './mail';
import { smsTransport, type SmsSender } from './sms';

export interface TouchInput {
  key: string;
  journeyId: string;
  channel: 'email' | 'sms';
  /** The contact's e-mail: limits and suppressions are per contact, whatever the channel. */
  contact: string;
  /** Their address on this channel: the e-mail address, or the phone number in E.164. */
  to: string;
  /** The journey's clock when the touch is due (a time-skipping test server runs ahead of the wall clock). */
  at: string;
  limits: TouchLimits;
  /** The template by name, and the journey's own copy for when the active config has none of that name. */
  template: NamedTemplate;
  context: TemplateContext;
  unsubscribeId: string;
  unsubscribe: Config['unsubscribe'];
  sender: Config['sender'];
  smsFrom?: string;
  /** Names the message in its Message-ID: the same on every attempt. */
  messageRef: string;
  /** Why the touch left later than due (window, weekend, holiday, limit): for the simulator and the history's reader. */
  shifted?: { reason: string; detail: string }[];
}

export interface NamedTemplate {
  name: string;
  fallback: Template;
}

export interface TouchResult {
  status: DeliveryResult['status'] | 'deferred';
  detail?: string;
  /** When deferred: the earliest time every limit allows the touch. */
  until?: string;
  subject?: string;
  /** The config version whose template was sent; none when the journey's own copy was. */
  configVersion?: number;
}

export interface TaskInput {
  key: string;
  journeyId: string;
  owner: { name: string; email: string };
  contact: string;
  channel: string;
  template?: NamedTemplate;
  /** The journey's clock when the task is given. */
  at?: string;
  /** Plain words for the owner, when no template says it (an account handed over). */
  note?: string;
  context: TemplateContext;
  sender: Config['sender'];
  messageRef: string;
}

export interface TouchDeps {
  store: Store;
  mailer: Mailer;
  sms?: SmsSender;
  templates: TemplateSource;
}

/**
 * Where templates come from at send time: the active config version's template of that name, so
 * a fixed typo or a new footer reaches running journeys; the journey's own copy when the active
 * config has no such template (it was renamed or removed since the journey started).
 */
export interface TemplateSource {
  resolve(template: NamedTemplate): Promise<{ template: Template; configVersion?: number }>;
}

export function activeTemplates(configs: ActiveConfigSource): TemplateSource {
  return {
    async resolve({ name, fallback }) {
      const active = await configs.get();
      const current = active?.config.templates?.[name];
      // An active template of the same name only replaces one of the same kind (an e-mail keeps a subject).
      if (current && Boolean(current.subject) === Boolean(fallback.subject)) return { template: current, configVersion: active!.version };
      return { template: fallback };
    },
  };
}

export async function deliverTouch({ store, mailer, sms, templates }: TouchDeps, input: TouchInput): Promise<TouchResult> {
  const { template, configVersion } = await templates.resolve(input.template);
  // One signed token per message, in the body's link and the List-Unsubscribe header alike.
  const token = signUnsubscribe({ journeyId: input.unsubscribeId, email: input.contact });
  const context = { ...input.context, unsubscribeUrl: unsubscribeUrl(input.unsubscribe, token) };
  const html = template.format === 'html';
  const body = renderMessage(template.body, context, template.fallbacks, { html });
  const subject = template.subject ? renderMessage(template.subject, context, template.fallbacks) : undefined;
  // The mailbox limit is the e-mail provider's; SMS has none of its own here.
  const mailbox = input.channel === 'email' ? input.sender.email : undefined;
  const intent = { key: input.key, journeyId: input.journeyId, kind: 'cadence' as const, channel: input.channel, recipient: input.to };
  // A suppressed contact is skipped at once (sendClaimed records why), not deferred by a limit first.
  const suppressed = await store.suppressionFor(input.contact, input.channel);
  const claim = suppressed
    ? await store.claimSend(intent)
    : await store.claimTouch({ ...intent, contact: input.contact, mailbox, at: new Date(input.at), limits: input.limits });
  if (claim.status === 'deferred') return { status: 'deferred', until: claim.deferredUntil!.toISOString(), detail: claim.detail };
  const result = await sendClaimed(store, claim, { contact: input.contact, transport: transportFor(input, { mailer, sms }, { subject, body, html, token }) });
  return { ...result, subject, configVersion };
}

function transportFor(
  input: TouchInput,
  { mailer, sms }: Pick<TouchDeps, 'mailer' | 'sms'>,
  { subject, body, html, token }: { subject: string | undefined; body: string; html: boolean; token: string },
): Transport {
  if (input.channel === 'email') {
    return emailTransport(mailer, {
      from: { name: input.sender.name, address: input.sender.email },
      to: { address: input.to },
      messageId: messageId(input.journeyId, input.messageRef, input.sender.email),
      subject: subject ?? '',
      text: html ? stripTags(body) : body,
      ...(html ? { html: body } : {}),
      headers: unsubscribeHeaders(input.unsubscribe, token),
    });
  }
  return smsTransport(sms, { to: input.to, from: input.smsFrom, body, key: input.key });
}

/** The owner's task, by e-mail: what to do, for whom, and how to report it done. */
export async function deliverTask({ store, mailer, templates }: TouchDeps, input: TaskInput): Promise<DeliveryResult> {
  const resolved = input.template ? (await templates.resolve(input.template)).template : undefined;
  const instructions = resolved ? renderMessage(resolved.body, input.context, resolved.fallbacks) : (input.note ?? '');
  const what = { call: 'Call', linkedin: 'LinkedIn message to', other: 'Task for' }[input.channel] ?? 'Task for';
  const contact = input.context.contact as { firstName?: string; lastName?: string; email: string } | undefined;
  const name = contact?.firstName ? fullName({ firstName: contact.firstName, lastName: contact.lastName }) : input.contact;
  const text = [
    `Hi ${input.owner.name.split(' ')[0]},`,
    '',
    `${what} ${name} <${input.contact}>.`,
    ...(instructions ? ['', instructions.trim()] : []),
    '',
    `When it is done: pipewright lead event ${input.contact} touched --channel ${input.channel} --outcome <what happened>`,
    '',
    input.sender.name,
  ].join('\n');
  return deliver(
    { store, mailer },
    {
      key: input.key,
      journeyId: input.journeyId,
      kind: 'task',
      message: {
        from: { name: input.sender.name, address: input.sender.email },
        to: { name: input.owner.name, address: input.owner.email },
        messageId: messageId(input.journeyId, input.messageRef, input.sender.email),
        subject: `Task: ${what} ${name}`,
        text,
      },
    },
  );
}

function stripTags(html: string): string {
  return html.replace(/<br\s*\/?>/gi, '\n').replace(/<\/p>/gi, '\n\n').replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
}
