// The system of record behind one pg pool. Every operation is a single SQL statement (plus, in one
// rare race, a plain re-read): the embedded store serves one PGlite session to all connections, so
// a transaction held open by one caller would queue every other caller behind it, while a single
// statement is atomic on both backends without one.
import { Pool } from 'pg';
import { migrate } from './migrate';
import type {
  Channel,
  Contact,
  JourneyEvent,
  JourneyEventType,
  SendIntent,
  SendKind,
  SendRecord,
  SendStatus,
  Suppression,
  SuppressionChannel,
} from './types';

export interface Store {
  /** The URL with any password masked, for log lines. */
  readonly url: string;
  upsertContact(contact: { email: string; firstName?: string; lastName?: string; company?: string }): Promise<void>;
  contact(email: string): Promise<Contact | undefined>;
  /** Upsert on (email, channel); keeps the first reason/source/created_at. created=false when it was already there. */
  suppress(s: { email: string; channel: SuppressionChannel; reason: string; source: string }): Promise<{ created: boolean }>;
  /** Removes that channel's row; channel 'all' removes every row of the address. Returns rows removed. */
  unsuppress(email: string, channel: SuppressionChannel): Promise<number>;
  suppressions(email: string): Promise<Suppression[]>;
  /** The suppression that stops a message on this channel: the channel's own row or the 'all' row. */
  suppressionFor(email: string, channel: Channel): Promise<Suppression | undefined>;
  /**
   * Records the intent to send under an idempotency key, in ONE statement (insert ... on conflict ... returning):
   * a new key gets status 'sending', attempts 1; an existing key still 'sending' gets attempts + 1;
   * a settled key (sent/skipped/bounced/failed) is returned unchanged. Returns the row as it now is.
   */
  claimSend(intent: SendIntent): Promise<SendRecord>;
  /**
   * Settles a send that is still 'sending' and, in the SAME statement (a CTE), records the journey event of the
   * same type (sent/skipped/bounced/failed) with key `${sendKey}:${status}`, journey_id, at, and detail
   * { sendKey, kind, channel, recipient, detail? }. A key already settled is not changed (returns it as it is);
   * so settling twice never produces two events or overwrites 'sent'.
   */
  settleSend(
    key: string,
    outcome: { status: Exclude<SendStatus, 'sending'>; detail?: string; messageId?: string; at: Date },
  ): Promise<SendRecord>;
  /** A transient error while sending: kept in `detail`, status stays 'sending'. */
  noteSendError(key: string, detail: string): Promise<void>;
  /** Newest first. */
  sends(filter: { journeyId?: string; recipient?: string; limit?: number }): Promise<SendRecord[]>;
  /** Inserts with ON CONFLICT (key) DO NOTHING, all in one statement (unnest or multi-row values); [] is a no-op. */
  recordEvents(events: JourneyEvent[]): Promise<void>;
  /** Oldest first. */
  events(filter: { journeyId?: string; types?: JourneyEventType[]; since?: Date; limit?: number }): Promise<JourneyEvent[]>;
  close(): Promise<void>;
}

/** Opens a pool on `url`, brings the schema up to date, and returns the store. */
export async function openStore(url: string, options: { max?: number } = {}): Promise<Store> {
  const pool = new Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle connection the server drops (a restart, the embedded store closing) is reported here;
  // without a listener Node treats it as an unhandled 'error' and exits. The pool already discards
  // that connection, and the next query opens a fresh one or reports the failure to its caller.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new PgStore(pool, maskPassword(url));
}

/** Keeps the user, host and database visible in logs while hiding the secret. */
export function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL we can take apart: say nothing of it rather than risk printing a secret.
    return '(unparseable database URL)';
  }
}

/** Addresses arrive from forms, CRMs and people typing; one spelling per inbox keeps keys unique. */
export function normaliseEmail(email: string): string {
  const normal = email.trim().toLowerCase();
  if (!normal) throw new Error('An e-mail address is required');
  return normal;
}

interface ContactRow {
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  created_at: Date;
  updated_at: Date;
}

interface SuppressionRow {
  email: string;
  channel: SuppressionChannel;
  reason: string;
  source: string;
  created_at: Date;
}

interface SendRow {
  key: string;
  journey_id: string;
  kind: SendKind;
  channel: Channel;
  recipient: string;
  status: SendStatus;
  attempts: number;
  detail: string | null;
  message_id: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

interface EventRow {
  key: string;
  journey_id: string;
  type: JourneyEventType;
  at: Date;
  detail: Record<string, unknown> | null;
}

const SEND_COLUMNS =
  'key, journey_id, kind, channel, recipient, status, attempts, detail, message_id, created_at, updated_at, sent_at';

class PgStore implements Store {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly url: string,
  ) {}

  async upsertContact(contact: { email: string; firstName?: string; lastName?: string; company?: string }): Promise<void> {
    // A later form that leaves a field out must not erase what an earlier one told us.
    await this.pool.query(
      `insert into contacts (email, first_name, last_name, company) values ($1, $2, $3, $4)
       on conflict (email) do update set
         first_name = coalesce(excluded.first_name, contacts.first_name),
         last_name = coalesce(excluded.last_name, contacts.last_name),
         company = coalesce(excluded.company, contacts.company),
         updated_at = now()`,
      [normaliseEmail(contact.email), contact.firstName ?? null, contact.lastName ?? null, contact.company ?? null],
    );
  }

  async contact(email: string): Promise<Contact | undefined> {
    const { rows } = await this.pool.query<ContactRow>('select * from contacts where email = $1', [normaliseEmail(email)]);
    return rows[0] && toContact(rows[0]);
  }

  async suppress(s: { email: string; channel: SuppressionChannel; reason: string; source: string }): Promise<{ created: boolean }> {
    const { rowCount } = await this.pool.query(
      `insert into suppressions (email, channel, reason, source) values ($1, $2, $3, $4)
       on conflict (email, channel) do nothing`,
      [normaliseEmail(s.email), s.channel, s.reason, s.source],
    );
    return { created: rowCount === 1 };
  }

  async unsuppress(email: string, channel: SuppressionChannel): Promise<number> {
    const { rowCount } = await this.pool.query(
      `delete from suppressions where email = $1 and ($2 = 'all' or channel = $2)`,
      [normaliseEmail(email), channel],
    );
    return rowCount ?? 0;
  }

  async suppressions(email: string): Promise<Suppression[]> {
    const { rows } = await this.pool.query<SuppressionRow>(
      'select * from suppressions where email = $1 order by created_at, channel',
      [normaliseEmail(email)],
    );
    return rows.map(toSuppression);
  }

  async suppressionFor(email: string, channel: Channel): Promise<Suppression | undefined> {
    const { rows } = await this.pool.query<SuppressionRow>(
      `select * from suppressions where email = $1 and channel in ($2, 'all')
       order by channel = 'all' limit 1`,
      [normaliseEmail(email), channel],
    );
    return rows[0] && toSuppression(rows[0]);
  }

  async claimSend(intent: SendIntent): Promise<SendRecord> {
    // The update's WHERE leaves settled rows alone, and then RETURNING has nothing to give; the
    // second branch returns such a row as it stands.
    const { rows } = await this.pool.query<SendRow>(
      `with claimed as (
         insert into sends as s (key, journey_id, kind, channel, recipient, status, attempts, message_id)
         values ($1, $2, $3, $4, $5, 'sending', 1, $6)
         on conflict (key) do update set
           attempts = s.attempts + 1,
           message_id = coalesce(excluded.message_id, s.message_id),
           updated_at = now()
         where s.status = 'sending'
         returning ${SEND_COLUMNS}
       )
       select * from claimed
       union all
       select ${SEND_COLUMNS} from sends where key = $1 and not exists (select 1 from claimed)`,
      [intent.key, intent.journeyId, intent.kind, intent.channel, normaliseRecipient(intent.recipient), intent.messageId ?? null],
    );
    // Empty only when another caller inserted and settled this key while the statement ran, after its
    // snapshot was taken; a fresh read sees that.
    return toSendRecord(rows[0] ?? (await this.sendRow(intent.key)));
  }

  async settleSend(
    key: string,
    outcome: { status: Exclude<SendStatus, 'sending'>; detail?: string; messageId?: string; at: Date },
  ): Promise<SendRecord> {
    // The event is inserted from the update's RETURNING, so it exists exactly when this call settled
    // the send: a retried or duplicate settle finds no 'sending' row and records nothing.
    const { rows } = await this.pool.query<SendRow & { settled_now: boolean }>(
      `with settled as (
         update sends set
           status = $2,
           detail = coalesce($3, detail),
           message_id = coalesce($4, message_id),
           sent_at = case when $2 = 'sent' then $5::timestamptz else sent_at end,
           updated_at = now()
         where key = $1 and status = 'sending'
         returning ${SEND_COLUMNS}
       ), event as (
         insert into journey_events (key, journey_id, type, at, detail)
         select key || ':' || status, journey_id, status, $5::timestamptz,
                jsonb_strip_nulls(jsonb_build_object(
                  'sendKey', key, 'kind', kind, 'channel', channel, 'recipient', recipient, 'detail', $3::text))
         from settled
         on conflict (key) do nothing
       )
       select *, true as settled_now from settled
       union all
       select ${SEND_COLUMNS}, false from sends where key = $1 and not exists (select 1 from settled)`,
      [key, outcome.status, outcome.detail ?? null, outcome.messageId ?? null, outcome.at],
    );
    const row = rows[0];
    if (!row) throw new Error(`No send with key ${key}: claimSend records it before it can be settled`);
    // Still 'sending' without our update means a concurrent settle won the row lock after this
    // statement's snapshot; read what it wrote.
    if (!row.settled_now && row.status === 'sending') return toSendRecord(await this.sendRow(key));
    return toSendRecord(row);
  }

  async noteSendError(key: string, detail: string): Promise<void> {
    await this.pool.query(
      `update sends set detail = $2, updated_at = now() where key = $1 and status = 'sending'`,
      [key, detail],
    );
  }

  async sends(filter: { journeyId?: string; recipient?: string; limit?: number }): Promise<SendRecord[]> {
    const { rows } = await this.pool.query<SendRow>(
      `select ${SEND_COLUMNS} from sends
       where ($1::text is null or journey_id = $1) and ($2::text is null or recipient = $2)
       order by created_at desc, key desc
       limit $3`,
      [
        filter.journeyId ?? null,
        filter.recipient === undefined ? null : normaliseRecipient(filter.recipient),
        limitOf(filter.limit),
      ],
    );
    return rows.map(toSendRecord);
  }

  async recordEvents(events: JourneyEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.pool.query(
      `insert into journey_events (key, journey_id, type, at, detail)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
       on conflict (key) do nothing`,
      [
        events.map((e) => e.key),
        events.map((e) => e.journeyId),
        events.map((e) => e.type),
        events.map((e) => e.at),
        // Serialised here: pg would turn a nested array inside `detail` into a Postgres array literal.
        events.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
      ],
    );
  }

  async events(filter: { journeyId?: string; types?: JourneyEventType[]; since?: Date; limit?: number }): Promise<JourneyEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `select key, journey_id, type, at, detail from journey_events
       where ($1::text is null or journey_id = $1)
         and ($2::text[] is null or type = any($2))
         and ($3::timestamptz is null or at >= $3)
       order by at, recorded_at, key
       limit $4`,
      [filter.journeyId ?? null, filter.types ?? null, filter.since ?? null, limitOf(filter.limit)],
    );
    return rows.map(toJourneyEvent);
  }

  close(): Promise<void> {
    // pg throws if a pool is ended twice; a shutdown path may well close the store twice.
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async sendRow(key: string): Promise<SendRow> {
    const { rows } = await this.pool.query<SendRow>(`select ${SEND_COLUMNS} from sends where key = $1`, [key]);
    if (!rows[0]) throw new Error(`No send with key ${key}`);
    return rows[0];
  }
}

/** Phone numbers are unaffected; e-mail recipients then match suppressions and contacts. */
function normaliseRecipient(recipient: string): string {
  return normaliseEmail(recipient);
}

/** `limit null` is Postgres for no limit. */
function limitOf(limit: number | undefined): number | null {
  if (limit === undefined) return null;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a whole number ≥ 0, not ${limit}`);
  return limit;
}

function toContact(row: ContactRow): Contact {
  return {
    email: row.email,
    ...(row.first_name !== null && { firstName: row.first_name }),
    ...(row.last_name !== null && { lastName: row.last_name }),
    ...(row.company !== null && { company: row.company }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSuppression(row: SuppressionRow): Suppression {
  return { email: row.email, channel: row.channel, reason: row.reason, source: row.source, createdAt: row.created_at };
}

function toSendRecord(row: SendRow): SendRecord {
  return {
    key: row.key,
    journeyId: row.journey_id,
    kind: row.kind,
    channel: row.channel,
    recipient: row.recipient,
    status: row.status,
    attempts: row.attempts,
    ...(row.detail !== null && { detail: row.detail }),
    ...(row.message_id !== null && { messageId: row.message_id }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.sent_at !== null && { sentAt: row.sent_at }),
  };
}

function toJourneyEvent(row: EventRow): JourneyEvent {
  return {
    key: row.key,
    journeyId: row.journey_id,
    type: row.type,
    at: row.at,
    ...(row.detail !== null && { detail: row.detail }),
  };
}
