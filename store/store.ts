// The system of record behind one pg pool. Every operation is a single SQL statement (plus, in one
// rare race, a plain re-read): the embedded store serves one PGlite session to all connections, so
// a transaction held open by one caller would queue every other caller behind it, while a single
// statement is atomic on both backends without one.
//
// Two exceptions need a count that no concurrent caller can change before the write, which one
// statement cannot give on PostgreSQL (its snapshot is taken before any lock it takes): claimTouch
// and applyConfig run a short transaction on one pooled client that takes an advisory lock, reads,
// and writes. Between BEGIN and COMMIT they only talk to the database (no other awaits), a handful
// of round trips, so PGlite's other connections wait for no more than that.
import { createHash } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { touchDecision } from '../workflows/rules/touchLimits';
import { migrate } from './migrate';
import type {
  ActiveConfig,
  Channel,
  ConfigActivation,
  ConfigVersion,
  Contact,
  JourneyEvent,
  JourneyEventType,
  SendIntent,
  SendKind,
  SendRecord,
  SendStatus,
  Suppression,
  SuppressionChannel,
  TouchIntent,
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
   * a settled key (sent/skipped/bounced/failed), or one claimTouch deferred, is returned unchanged.
   * Returns the row as it now is.
   */
  claimSend(intent: SendIntent): Promise<SendRecord>;
  /**
   * claimSend for a message to a contact under touch limits, atomic per contact and per mailbox (a short
   * transaction holding advisory locks on both). A settled key is returned unchanged; a key still 'sending'
   * gets attempts + 1 and is never deferred (a retry is not a new touch). A new or 'deferred' key is weighed
   * by touchDecision against the contact's and the mailbox's other touches ('sending' or 'sent' with a
   * touch_at): allowed, it becomes 'sending' with touchAt = at; otherwise it is 'deferred' (attempts 0),
   * with deferredUntil and the reason in `detail`, and a 'deferred' journey event is recorded with key
   * `${key}:deferred:${until ISO}`, at `at`, detail { sendKey, contact, until, reason }.
   */
  claimTouch(intent: TouchIntent): Promise<SendRecord>;
  /**
   * Settles a send that is still 'sending' and, in the SAME statement (a CTE), records the journey event of the
   * same type (sent/skipped/bounced/failed) with key `${sendKey}:${status}`, journey_id, at, and detail
   * { sendKey, kind, channel, recipient, detail? }. A key already settled is not changed (returns it as it is);
   * so settling twice never produces two events or overwrites 'sent'.
   */
  settleSend(
    key: string,
    outcome: { status: Exclude<SendStatus, 'sending' | 'deferred'>; detail?: string; messageId?: string; at: Date },
  ): Promise<SendRecord>;
  /** A transient error while sending: kept in `detail`, status stays 'sending'. */
  noteSendError(key: string, detail: string): Promise<void>;
  /** A touch that left later than it was claimed (retried through an outage) counts against the limits from then. */
  noteTouchTime(key: string, at: Date): Promise<void>;
  /** Newest first. */
  sends(filter: { journeyId?: string; recipient?: string; limit?: number }): Promise<SendRecord[]>;
  /**
   * A contact's touches since a time on the journeys' clocks (touchAt >= since, any status), and its
   * deferred messages still to go (deferredUntil >= since); newest first by touchAt or deferredUntil.
   */
  touches(contact: string, since: Date): Promise<SendRecord[]>;
  /** Inserts with ON CONFLICT (key) DO NOTHING, all in one statement (unnest or multi-row values); [] is a no-op. */
  recordEvents(events: JourneyEvent[]): Promise<void>;
  /** Oldest first. */
  events(filter: { journeyId?: string; types?: JourneyEventType[]; since?: Date; limit?: number }): Promise<JourneyEvent[]>;
  /**
   * Stores a validated config under the sha256 of its source (an identical source reuses its version:
   * created=false) and makes that version the active one, unless it already is (activated=false).
   * Applying an older version's source again activates that version again: a rollback.
   */
  applyConfig(input: { source: string; config: unknown; by?: string }): Promise<{ version: number; created: boolean; activated: boolean }>;
  /** The version of the newest activation; undefined before any config was applied. */
  activeConfig(): Promise<ActiveConfig | undefined>;
  configVersion(version: number): Promise<ConfigVersion | undefined>;
  /** Every activation, newest first. */
  configHistory(): Promise<ConfigActivation[]>;
  close(): Promise<void>;
}

/** Advisory lock namespaces (the first key of pg_advisory_xact_lock(int, int)); the second is hashtext of the name. */
const CONTACT_LOCK = 7_301_452;
const MAILBOX_LOCK = 7_301_453;
/** One lock for every config change, a bigint like migrate's MIGRATION_LOCK and different from it. */
const CONFIG_LOCK = 7_301_451_520_002;
/** The longest touch-limit window: older touches never count, at `at` or later. */
const WEEK_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

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
  contact: string | null;
  mailbox: string | null;
  touch_at: Date | null;
  deferred_until: Date | null;
}

interface EventRow {
  key: string;
  journey_id: string;
  type: JourneyEventType;
  at: Date;
  detail: Record<string, unknown> | null;
}

const SEND_COLUMNS =
  'key, journey_id, kind, channel, recipient, status, attempts, detail, message_id, created_at, updated_at, sent_at, ' +
  'contact, mailbox, touch_at, deferred_until';
/** The same columns, qualified by the table, for a select that joins sends to something else. */
const SEND_COLUMNS_OF_SENDS = SEND_COLUMNS.split(', ')
  .map((column) => `sends.${column}`)
  .join(', ');

interface ConfigVersionRow {
  version: number;
  config: unknown;
  source: string;
  created_at: Date;
}

interface ActiveConfigRow {
  version: number;
  config: unknown;
  source: string;
  activated_at: Date;
}

interface ConfigActivationRow {
  version: number;
  activated_at: Date;
  activated_by: string | null;
  sha256: string;
}

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

  async claimTouch(intent: TouchIntent): Promise<SendRecord> {
    const contact = normaliseEmail(intent.contact);
    const mailbox = intent.mailbox === undefined ? null : normaliseEmail(intent.mailbox);
    const at = intent.at.getTime();
    if (!Number.isFinite(at)) throw new Error(`claimTouch for ${intent.key}: at is not a valid date`);
    const { perContact, perMailbox } = intent.limits;
    // Only touches that can still count at `at` or later: windows end at the instant weighed.
    const contactSince = perContact?.perWeek !== undefined ? at - WEEK_MS : perContact?.perDay !== undefined ? at - DAY_MS : null;
    const mailboxSince = mailbox !== null && perMailbox?.perDay !== undefined ? at - DAY_MS : null;
    const values = [intent.key, intent.journeyId, intent.kind, intent.channel, normaliseRecipient(intent.recipient), intent.messageId ?? null, contact, mailbox];

    return this.transaction(async (client) => {
      // Contact before mailbox, always (a select list is evaluated in order), so two claims never
      // wait on each other in a circle.
      await client.query(
        mailbox === null
          ? 'select pg_advisory_xact_lock($1::int, hashtext($2::text))'
          : 'select pg_advisory_xact_lock($1::int, hashtext($2::text)), pg_advisory_xact_lock($3::int, hashtext($4::text))',
        mailbox === null ? [CONTACT_LOCK, contact] : [CONTACT_LOCK, contact, MAILBOX_LOCK, mailbox],
      );
      // A fresh statement, so its snapshot sees everything committed by whoever held the locks before.
      const { rows } = await client.query<Partial<SendRow> & { contact_touches: number[]; mailbox_touches: number[] }>(
        `select ${SEND_COLUMNS_OF_SENDS},
           array(select (extract(epoch from o.touch_at) * 1000)::float8 from sends o
                 where $3::timestamptz is not null and o.contact = $2 and o.key <> $1
                   and o.status in ('sending', 'sent') and o.touch_at >= $3) as contact_touches,
           array(select (extract(epoch from o.touch_at) * 1000)::float8 from sends o
                 where $5::timestamptz is not null and o.mailbox = $4 and o.key <> $1
                   and o.status in ('sending', 'sent') and o.touch_at >= $5) as mailbox_touches
         from (select 1) as one left join sends on sends.key = $1`,
        [intent.key, contact, dateOrNull(contactSince), mailbox, dateOrNull(mailboxSince)],
      );
      const found = rows[0]!;
      const existing = found.key ? (found as SendRow) : undefined;
      if (existing && existing.status !== 'sending' && existing.status !== 'deferred') return toSendRecord(existing);
      if (existing?.status === 'sending') {
        const retried = await client.query<SendRow>(
          `update sends set attempts = attempts + 1, message_id = coalesce($2, message_id), updated_at = now()
           where key = $1 and status = 'sending'
           returning ${SEND_COLUMNS}`,
          [intent.key, intent.messageId ?? null],
        );
        return toSendRecord(retried.rows[0] ?? (await this.sendRow(intent.key, client)));
      }

      const decision = touchDecision(at, { contact: found.contact_touches, mailbox: found.mailbox_touches }, intent.limits);
      if (decision.allowed) {
        // A deferred row that is now allowed: the same message, at last a touch.
        const claimed = await client.query<SendRow>(
          `insert into sends as s (key, journey_id, kind, channel, recipient, status, attempts, message_id, contact, mailbox, touch_at)
           values ($1, $2, $3, $4, $5, 'sending', 1, $6, $7, $8, $9)
           on conflict (key) do update set
             status = 'sending',
             attempts = s.attempts + 1,
             message_id = coalesce(excluded.message_id, s.message_id),
             contact = excluded.contact,
             mailbox = excluded.mailbox,
             touch_at = excluded.touch_at,
             deferred_until = null,
             detail = null,
             updated_at = now()
           where s.status = 'deferred'
           returning ${SEND_COLUMNS}`,
          [...values, intent.at],
        );
        return toSendRecord(claimed.rows[0] ?? (await this.sendRow(intent.key, client)));
      }

      const until = new Date(decision.until);
      // The event comes from the upsert's RETURNING: it exists exactly when the row says deferred.
      // Its key names the instant, so deferring again to the same time records it once.
      const deferred = await client.query<SendRow>(
        `with deferred as (
           insert into sends as s (key, journey_id, kind, channel, recipient, status, attempts, message_id, contact, mailbox, deferred_until, detail)
           values ($1, $2, $3, $4, $5, 'deferred', 0, $6, $7, $8, $9, $10)
           on conflict (key) do update set
             message_id = coalesce(excluded.message_id, s.message_id),
             contact = excluded.contact,
             mailbox = excluded.mailbox,
             deferred_until = excluded.deferred_until,
             detail = excluded.detail,
             updated_at = now()
           where s.status = 'deferred'
           returning ${SEND_COLUMNS}
         ), event as (
           insert into journey_events (key, journey_id, type, at, detail)
           select key || ':deferred:' || $11, journey_id, 'deferred', $12::timestamptz,
                  jsonb_build_object('sendKey', key, 'contact', contact, 'until', $11::text, 'reason', detail)
           from deferred
           on conflict (key) do nothing
         )
         select * from deferred`,
        [...values, until, decision.reason, until.toISOString(), intent.at],
      );
      return toSendRecord(deferred.rows[0] ?? (await this.sendRow(intent.key, client)));
    });
  }

  async settleSend(
    key: string,
    outcome: { status: Exclude<SendStatus, 'sending' | 'deferred'>; detail?: string; messageId?: string; at: Date },
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

  async noteTouchTime(key: string, at: Date): Promise<void> {
    await this.pool.query(`update sends set touch_at = $2, updated_at = now() where key = $1 and status = 'sent'`, [key, at]);
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

  async touches(contact: string, since: Date): Promise<SendRecord[]> {
    const { rows } = await this.pool.query<SendRow>(
      `select ${SEND_COLUMNS} from sends
       where contact = $1
         and (touch_at >= $2 or (status = 'deferred' and deferred_until >= $2))
       order by coalesce(touch_at, deferred_until) desc, key desc`,
      [normaliseEmail(contact), since],
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

  async applyConfig(input: { source: string; config: unknown; by?: string }): Promise<{ version: number; created: boolean; activated: boolean }> {
    if (input.config === undefined) throw new Error('applyConfig needs the validated config, not undefined');
    const sha256 = createHash('sha256').update(input.source, 'utf8').digest('hex');
    // Serialised here, as in recordEvents: pg would turn a top-level array into a Postgres array literal.
    const config = JSON.stringify(input.config);
    return this.transaction(async (client) => {
      // One applier at a time, so "already active" and "already stored" are read after the last one committed.
      await client.query('select pg_advisory_xact_lock($1)', [CONFIG_LOCK]);
      const { rows } = await client.query<{ version: number; created: boolean; activated: boolean }>(
        `with existing as (
           select version from config_versions where sha256 = $1
         ), inserted as (
           -- Not a bare ON CONFLICT DO NOTHING: that takes a number from the sequence even when the
           -- text is known, and the versions a marketer sees would skip numbers.
           insert into config_versions (sha256, source, config)
           select $1, $2, $3::jsonb where not exists (select 1 from existing)
           on conflict (sha256) do nothing
           returning version
         ), chosen as (
           select version, true as created from inserted
           union all
           select version, false from existing
         ), activated as (
           insert into config_activations (version, activated_by)
           select version, $4 from chosen
           where version is distinct from (select version from config_activations order by id desc limit 1)
           returning version
         )
         select version, created, exists (select 1 from activated) as activated from chosen`,
        [sha256, input.source, config, input.by ?? null],
      );
      // Under the lock the version is either inserted now or committed before: one of the two finds it.
      if (!rows[0]) throw new Error(`Config ${sha256} was neither stored nor found`);
      return rows[0];
    });
  }

  async activeConfig(): Promise<ActiveConfig | undefined> {
    const { rows } = await this.pool.query<ActiveConfigRow>(
      `select v.version, v.config, v.source, a.activated_at
       from config_activations a join config_versions v using (version)
       order by a.id desc limit 1`,
    );
    const row = rows[0];
    return row && { version: row.version, config: row.config, source: row.source, activatedAt: row.activated_at };
  }

  async configVersion(version: number): Promise<ConfigVersion | undefined> {
    const { rows } = await this.pool.query<ConfigVersionRow>(
      'select version, config, source, created_at from config_versions where version = $1',
      [version],
    );
    const row = rows[0];
    return row && { version: row.version, config: row.config, source: row.source, createdAt: row.created_at };
  }

  async configHistory(): Promise<ConfigActivation[]> {
    const { rows } = await this.pool.query<ConfigActivationRow>(
      `select a.version, a.activated_at, a.activated_by, v.sha256
       from config_activations a join config_versions v using (version)
       order by a.id desc`,
    );
    return rows.map((row) => ({
      version: row.version,
      activatedAt: row.activated_at,
      ...(row.activated_by !== null && { activatedBy: row.activated_by }),
      sha256: row.sha256,
    }));
  }

  close(): Promise<void> {
    // pg throws if a pool is ended twice; a shutdown path may well close the store twice.
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async sendRow(key: string, client: Pool | PoolClient = this.pool): Promise<SendRow> {
    const { rows } = await client.query<SendRow>(`select ${SEND_COLUMNS} from sends where key = $1`, [key]);
    if (!rows[0]) throw new Error(`No send with key ${key}`);
    return rows[0];
  }

  /**
   * `work` inside BEGIN .. COMMIT on one pooled client, read committed whatever the server's default,
   * so each statement sees what was committed before it (after the locks it waited for).
   */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin isolation level read committed');
      const result = await work(client);
      await client.query('commit');
      client.release();
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      // The connection may be mid-transaction or broken: drop it rather than hand it to the pool.
      client.release(true);
      throw error;
    }
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
    ...(row.contact !== null && { contact: row.contact }),
    ...(row.mailbox !== null && { mailbox: row.mailbox }),
    ...(row.touch_at !== null && { touchAt: row.touch_at }),
    ...(row.deferred_until !== null && { deferredUntil: row.deferred_until }),
  };
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
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
