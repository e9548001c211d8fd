import nodemailer, { type SendMailOptions } from 'nodemailer';

/** The one thing activities need of an SMTP transport, so tests and the worker pass their own. */
export interface Mailer {
  sendMail(message: SendMailOptions): Promise<unknown>;
}

/**
 * The SMTP transport named by PIPEWRIGHT_SMTP_URL, e.g. smtp://user:pass@mail.example.com:587.
 * Credentials live only in the environment, never in the config file or in logs.
 */
export function mailerFromEnv(env: NodeJS.ProcessEnv = process.env): Mailer {
  const url = env.PIPEWRIGHT_SMTP_URL;
  if (!url) {
    throw new Error('PIPEWRIGHT_SMTP_URL is not set: expected an SMTP URL such as smtp://user:pass@mail.example.com:587');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('PIPEWRIGHT_SMTP_URL is not a URL: expected smtp://user:pass@host:port or smtps://...');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new Error(`PIPEWRIGHT_SMTP_URL has protocol "${parsed.protocol}": expected smtp: or smtps:`);
  }
  return nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
}

/**
 * nodemailer's defaults (2 minutes to connect, 10 idle) outlast the 2-minute activity that sends:
 * a hung SMTP server must fail the attempt, so the retry (with the same idempotency key) runs.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 60_000, dnsTimeout: 10_000 };

/** "Mon, 26 Nov 2026, 10:05 KST" in the reader's own time zone. */
export function localTime(isoTime: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(new Date(isoTime));
}

export function fullName(person: { firstName: string; lastName?: string }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ');
}

/** Retries of a send carry the same Message-ID, so a mail system can drop the duplicate. */
export function messageId(leadId: string, what: string, senderEmail: string): string {
  const domain = senderEmail.split('@')[1] ?? 'pipewright.local';
  return `<${encodeURIComponent(leadId)}.${what}@${domain}>`;
}
