// A real SMTP server that keeps every message instead of delivering it: the local mail sink of
// `pipewright dev`, and the inbox the tests read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTP_TIMEOUTS, type Mailer } from '../activities/mail';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  headers: Map<string, unknown>;
  /** The message as it arrived, headers unparsed. */
  raw: string;
  messageId?: string;
  receivedAt: Date;
  /** Where the raw message was saved, when the sink has a folder. */
  file?: string;
}

export interface MailSink {
  port: number;
  url: string;
  messages: ReceivedMail[];
  /** An SMTP client that delivers here; `pooled` keeps a few connections open for heavy sending. */
  mailer(options?: { pooled?: boolean }): Mailer;
  /** Resolves with the first message (received already or later) that matches. */
  waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

const addresses = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

export interface MailSinkOptions {
  port?: number;
  folder?: string;
  onMessage?: (mail: ReceivedMail) => void;
  /** Refuses a recipient with this SMTP reply (e.g. "550 5.1.1 no such user"), as a real server refuses a dead address. */
  rejectRecipient?: (address: string) => string | undefined;
}

export async function startMailSink(options: MailSinkOptions = {}): Promise<MailSink> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let saved = 0;
  if (options.folder) mkdirSync(options.folder, { recursive: true });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const refusal = options.rejectRecipient?.(address.address);
      if (!refusal) return callback();
      const code = Number(refusal.slice(0, 3));
      callback(Object.assign(new Error(refusal.slice(4)), { responseCode: code }));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            const receivedAt = new Date();
            let file: string | undefined;
            if (options.folder) {
              saved++;
              file = join(options.folder, `${receivedAt.toISOString().replace(/[:.]/g, '-')}-${String(saved).padStart(5, '0')}.eml`);
              writeFileSync(file, raw);
            }
            const mail: ReceivedMail = {
              from: addresses(parsed.from)[0] ?? '',
              to: addresses(parsed.to),
              cc: addresses(parsed.cc),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              headers: parsed.headers,
              raw: raw.toString('utf8'),
              messageId: parsed.messageId,
              receivedAt,
              file,
            };
            messages.push(mail);
            options.onMessage?.(mail);
            for (const wake of waiters) wake();
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      // A sender that drops its connection mid-message (a killed worker) is its own problem: the
      // sink, and the `pipewright dev` process it lives in, carry on.
      server.on('error', () => undefined);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = messages.find(match);
          if (!mail) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching mail within ${timeoutMs} ms; received: ${messages.map((m) => `"${m.subject}" to ${m.to}`).join(', ') || 'nothing'}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    mailer: ({ pooled = false } = {}) =>
      nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...SMTP_TIMEOUTS, ...(pooled ? { pool: true, maxConnections: 5 } : {}) }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
