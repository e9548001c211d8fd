// The system of record behind one pg pool. Every operation is a single SQL statement (plus, in one
// rare race, a plain re-read): the embedded store serves one PGlite session to all connections, so
// a transaction held open by one caller would queue every other caller behind it, while a single
// statement is atomic on both backends without one.
//
// Two exceptions need a count that no concurrent caller can change before the write, which one
// statement cannot give on PostgreSQL (its snapshot is taken before any lock it takes): claimTouch
// and applyConfig run a short transaction on one pooled client that takes an advisory lock, reads,
// and writes. Lead routing (assignLead, drainQueue, releaseLead) does the same under one routing-wide
// lock, as caps span pools. Between BEGIN and COMMIT they only talk to the database (no other
// awaits), a handful of round trips, so PGlite's other connections wait for no more than that.
import { newApiKey, parseApiKey, secretMatches, type ApiKey, type VerifiedKey } from './apiKeys';
import { createHash } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import {
  pickRep,
  whyIneligible,
  type Candidate,
  type CandidateFacts,
  type PickOptions,
  type Skip,
  type TurnState,
} from '../workflows/rules/routing';
import { touchDecision } from '../workflows/rules/touchLimits';
import { migrate } from './migrate';
import type {
  ActiveConfig,
  AssignRequest,
  AssignResult,
  Assignment,
  AssignmentStatus,
  AssignmentWhy,
  AwayRep,
  Channel,
  ConfigActivation,
  ConfigVersion,
  Contact,
  JourneyEvent,
  JourneyEventType,
  QueuedLead,
  SendIntent,
  SendKind,
  SendRecord,
  SendStatus,
  Strategy,
  SmsConversation,
  SmsOptOut,
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
  /** A number texted an opt-out keyword; the first keyword and time are kept. created=false when it already had. */
  optOutSms(phone: string, keyword: string): Promise<{ created: boolean }>;
  /** The number texted START: SMS may go to it again. False when it had not opted out. */
  optInSms(phone: string): Promise<boolean>;
  smsOptOut(phone: string): Promise<SmsOptOut | undefined>;
  /** The journeys that sent an SMS to this number, and to whom, the latest first. */
  smsConversations(phone: string): Promise<SmsConversation[]>;
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
  /**
   * Gives a lead to a rep in ONE atomic step, under a routing-wide advisory lock, so concurrent calls
   * never exceed a cap or double a turn. A lead with an open assignment gets it back (created=false,
   * nothing written) unless `reassignFrom` names its owner. Otherwise the lead is assigned only when no
   * older lead waits in the pool's queue (first come, first served): to `preferred` when eligible, else
   * to the rep the pool's strategy picks (pickRep, with the pool's stored turn); the lead leaves the
   * queue and the turn is saved. With nobody eligible, or older leads waiting, it is queued (or stays
   * queued, keeping its place): calling again is how a waiting lead retries. Eligibility counts a rep's
   * open assignments in every pool against their cap, and rep_away at `now`.
   * `reassignFrom`: the open assignment to that rep becomes 'reassigned' and another rep gets the lead;
   * with nobody else eligible the lead stays with its owner (created=false, `notReassigned` says why).
   */
  assignLead(req: AssignRequest): Promise<AssignResult>;
  /** Assigns the pool's waiting leads, oldest first, while someone is eligible; returns those assigned now. */
  drainQueue(req: Omit<AssignRequest, 'leadId' | 'rule' | 'preferred' | 'reassignFrom'>): Promise<Assignment[]>;
  /**
   * Closes the lead's open assignment (status 'closed', at `at` or now) and takes the lead out of the
   * queue. Returns the assignment closed; called again, the latest one as it is; undefined if none.
   */
  releaseLead(leadId: string, reason: string, at?: Date): Promise<Assignment | undefined>;
  /** The lead's open assignment, else its latest. */
  assignment(leadId: string): Promise<Assignment | undefined>;
  /** Every assignment of the lead, oldest first. */
  assignments(leadId: string): Promise<Assignment[]>;
  /** Open assignments per rep e-mail, across all pools; reps with none are absent. */
  openLeads(): Promise<Map<string, number>>;
  /** Leads waiting for a rep, by pool and then first come first; position 1 is next in its pool. */
  queued(pool?: string): Promise<QueuedLead[]>;
  /** The rep takes no leads until `until` (replacing any earlier absence). */
  setAway(email: string, until: Date, note?: string): Promise<void>;
  /** Back early; false when the rep was not marked away. */
  clearAway(email: string): Promise<boolean>;
  /** Reps still away at `now`, soonest back first. */
  awayReps(now: Date): Promise<AwayRep[]>;
  /** By e-mail domain (lower case); an upsert without an owner keeps the owner already known. */
  /**
   * Makes an API key for the intake's private API, or with `origins` a site key for the public lead
   * form of those web origins; the key is answered once, only its hash is kept.
   */
  createApiKey(name: string, dailyCap?: number, origins?: string[]): Promise<{ id: string; key: string }>;
  apiKeys(): Promise<ApiKey[]>;
  /** True when the key existed and was live. */
  revokeApiKey(id: string): Promise<boolean>;
  /** The key's id and name when `presented` is a live key (marked used, to the minute); else undefined. */
  verifyApiKey(presented: string): Promise<VerifiedKey | undefined>;
  /**
   * Takes one of the key's new journeys for `day` (UTC) if its daily cap allows (true), else false.
   * `release` gives one back: the lead was already running, or its start failed.
   */
  takeDailyJourney(keyId: string, day: string, cap: number): Promise<boolean>;
  releaseDailyJourney(keyId: string, day: string): Promise<void>;
  upsertAccount(account: { domain: string; name: string; owner?: string }): Promise<void>;
  accountOwner(domain: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Advisory lock namespaces (the first key of pg_advisory_xact_lock(int, int)); the second is hashtext of the name. */
const CONTACT_LOCK = 7_301_452;
const MAILBOX_LOCK = 7_301_453;
/** One lock for every config change, a bigint like migrate's MIGRATION_LOCK and different from it. */
const CONFIG_LOCK = 7_301_451_520_002;
/** One lock for all routing: caps span pools and a rep may sit in several, so pools cannot lock apart. */
const ROUTING_LOCK = 7_301_451_520_003;
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

interface AssignmentRow {
  lead_id: string;
  rep: string;
  pool: string;
  rule: string;
  strategy: Strategy;
  status: AssignmentStatus;
  why: AssignmentWhy;
  assigned_at: Date;
  closed_at: Date | null;
  close_reason: string | null;
}

const ASSIGNMENT_COLUMNS = 'lead_id, rep, pool, rule, strategy, status, why, assigned_at, closed_at, close_reason';
/** The same columns, qualified by the table, for a select that joins assignments to something else. */
const ASSIGNMENT_COLUMNS_OF_ASSIGNMENTS = ASSIGNMENT_COLUMNS.split(', ')
  .map((column) => `assignments.${column}`)
  .join(', ');

/** What the routing lock's first read tells: the reps' load and absences, and the pool's turn. */
interface RoutingFactsRow {
  /** rep -> open assignments, for the reps asked about. */
  open_leads: Record<string, number>;
  /** rep -> epoch ms they are away until, for those away at `now`. */
  away: Record<string, number>;
  turn: TurnState | null;
}

/** A new assignment, ready to insert. */
interface NewAssignment {
  leadId: string;
  rep: string;
  rule: string;
  why: AssignmentWhy;
}

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

  async optOutSms(phone: string, keyword: string): Promise<{ created: boolean }> {
    const { rowCount } = await this.pool.query('insert into sms_opt_outs (phone, keyword) values ($1, $2) on conflict (phone) do nothing', [phone, keyword]);
    return { created: rowCount === 1 };
  }

  async optInSms(phone: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('delete from sms_opt_outs where phone = $1', [phone]);
    return (rowCount ?? 0) > 0;
  }

  async smsOptOut(phone: string): Promise<SmsOptOut | undefined> {
    const { rows } = await this.pool.query<{ phone: string; keyword: string; created_at: Date }>('select * from sms_opt_outs where phone = $1', [phone]);
    return rows[0] && { phone: rows[0].phone, keyword: rows[0].keyword, createdAt: rows[0].created_at };
  }

  async smsConversations(phone: string): Promise<SmsConversation[]> {
    const { rows } = await this.pool.query<{ journey_id: string; contact: string }>(
      `select journey_id, contact from sends where channel = 'sms' and recipient = $1 and contact is not null
       group by journey_id, contact order by max(created_at) desc limit 20`,
      [phone],
    );
    return rows.map((r) => ({ journeyId: r.journey_id, contact: r.contact }));
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

  async assignLead(req: AssignRequest): Promise<AssignResult> {
    const routing = routingRequest(req);
    const leadId = leadIdOf(req.leadId);
    const preferred = req.preferred && { rep: normaliseCandidate(req.preferred.rep), why: req.preferred.why };
    const reassignFrom = req.reassignFrom === undefined ? undefined : normaliseEmail(req.reassignFrom);
    const reps = [...routing.candidates.map((c) => c.email), ...(preferred ? [preferred.rep.email] : [])];

    return this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [ROUTING_LOCK]);
      // One fresh statement after the lock: everything the last holder committed, in one round trip.
      const { rows } = await client.query<Partial<AssignmentRow> & RoutingFactsRow & { seq: string | null; ahead: number }>(
        `select ${ASSIGNMENT_COLUMNS_OF_ASSIGNMENTS}, q.seq,
           (select count(*)::int from routing_queue o
            where o.pool = $2 and o.lead_id <> $1 and (q.seq is null or o.seq < q.seq)) as ahead,
           ${routingFacts('$2', '$3', '$4')}
         from (select 1) as one
         left join assignments on assignments.lead_id = $1 and assignments.status = 'open'
         left join routing_queue q on q.lead_id = $1`,
        [leadId, routing.pool, reps, routing.now],
      );
      const found = rows[0]!;
      const open = found.rep ? toAssignment(found as AssignmentRow) : undefined;
      if (open && open.rep !== reassignFrom) return { status: 'assigned', assignment: open, created: false };

      const options: PickOptions = {
        now: routing.now,
        respectWorkingHours: routing.respectWorkingHours,
        ...(reassignFrom !== undefined && { exclude: [reassignFrom] }),
      };
      const facts = factsOf(found);
      const turn = found.turn ?? {};
      const choice = choose(routing, facts, turn, options, preferred);
      const why: AssignmentWhy = {
        rule: req.rule,
        pool: routing.pool,
        strategy: routing.strategy,
        ...(choice.preferred !== undefined && { preferred: choice.preferred }),
        skipped: choice.skipped,
      };

      if (open) {
        // A reassignment is not a new lead: it does not wait behind the queue, and without anyone
        // else to take it the lead is better with its owner than with nobody.
        if (choice.rep === undefined) return { status: 'assigned', assignment: open, created: false, notReassigned: choice.skipped };
        await client.query(
          `update assignments set status = 'reassigned', closed_at = $2, close_reason = $3
           where lead_id = $1 and status = 'open'`,
          [leadId, routing.now, `reassigned to ${choice.rep}`],
        );
      }
      if (choice.rep !== undefined && (open || found.ahead === 0)) {
        const moved = choice.turn !== turn ? choice.turn : undefined;
        const [assignment] = await this.insertAssignments(client, routing, [{ leadId, rep: choice.rep, rule: req.rule, why }], moved);
        return { status: 'assigned', assignment: assignment!, created: true };
      }

      // Keeps its place when already waiting; what this attempt found replaces the last one's.
      await client.query(
        `insert into routing_queue (lead_id, pool, queued_at, why) values ($1, $2, $3, $4::jsonb)
         on conflict (lead_id) do update set pool = excluded.pool, why = excluded.why`,
        [leadId, routing.pool, routing.now, JSON.stringify(why)],
      );
      return { status: 'queued', pool: routing.pool, position: found.ahead + 1, skipped: choice.skipped, newlyQueued: found.seq === null };
    });
  }

  async drainQueue(req: Omit<AssignRequest, 'leadId' | 'rule' | 'preferred' | 'reassignFrom'>): Promise<Assignment[]> {
    const routing = routingRequest(req);
    const reps = routing.candidates.map((c) => c.email);
    return this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [ROUTING_LOCK]);
      const { rows } = await client.query<RoutingFactsRow & { waiting: { lead_id: string; rule: string }[] }>(
        `select ${routingFacts('$1', '$2', '$3')},
           (select coalesce(json_agg(json_build_object('lead_id', q.lead_id, 'rule', q.why->>'rule') order by q.seq), '[]')
            from routing_queue q where q.pool = $1) as waiting`,
        [routing.pool, reps, routing.now],
      );
      const found = rows[0]!;
      const facts = factsOf(found);
      const options: PickOptions = { now: routing.now, respectWorkingHours: routing.respectWorkingHours };
      const initial = found.turn ?? {};
      let turn = initial;
      const assigned: NewAssignment[] = [];
      // Every waiting lead of the pool has the same candidates, so once nobody can take the head, nobody can take any.
      for (const { lead_id: leadId, rule } of found.waiting) {
        const choice = pickRep(routing.strategy, routing.candidates.map((c) => facts(c)), turn, options);
        if (choice.rep === undefined) break;
        turn = choice.turn;
        const rep = choice.rep;
        assigned.push({ leadId, rep, rule, why: { rule, pool: routing.pool, strategy: routing.strategy, skipped: choice.skipped } });
        facts.add(rep);
      }
      if (assigned.length === 0) return [];
      return this.insertAssignments(client, routing, assigned, turn !== initial ? turn : undefined);
    });
  }

  async releaseLead(leadId: string, reason: string, at?: Date): Promise<Assignment | undefined> {
    const id = leadIdOf(leadId);
    if (at !== undefined && !Number.isFinite(at.getTime())) throw new Error(`releaseLead for ${id}: at is not a valid date`);
    // Under the routing lock, so a reassignment in flight never reopens a lead released meanwhile.
    return this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [ROUTING_LOCK]);
      const { rows } = await client.query<AssignmentRow>(
        `with closed as (
           update assignments set status = 'closed', closed_at = coalesce($3::timestamptz, now()), close_reason = $2
           where lead_id = $1 and status = 'open'
           returning ${ASSIGNMENT_COLUMNS}
         ), dequeued as (
           delete from routing_queue where lead_id = $1
         )
         select * from closed`,
        [id, reason, at ?? null],
      );
      if (rows[0]) return toAssignment(rows[0]);
      return this.latestAssignment(id, client);
    });
  }

  assignment(leadId: string): Promise<Assignment | undefined> {
    return this.latestAssignment(leadIdOf(leadId));
  }

  async assignments(leadId: string): Promise<Assignment[]> {
    const { rows } = await this.pool.query<AssignmentRow>(
      `select ${ASSIGNMENT_COLUMNS} from assignments where lead_id = $1 order by id`,
      [leadIdOf(leadId)],
    );
    return rows.map(toAssignment);
  }

  async openLeads(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ rep: string; open: number }>(
      `select rep, count(*)::int as open from assignments where status = 'open' group by rep order by rep`,
    );
    return new Map(rows.map((row) => [row.rep, row.open]));
  }

  async queued(pool?: string): Promise<QueuedLead[]> {
    const { rows } = await this.pool.query<{ lead_id: string; pool: string; queued_at: Date; position: number }>(
      `select lead_id, pool, queued_at, row_number() over (partition by pool order by seq)::int as position
       from routing_queue where $1::text is null or pool = $1
       order by pool, seq`,
      [pool ?? null],
    );
    return rows.map((row) => ({ leadId: row.lead_id, pool: row.pool, queuedAt: row.queued_at, position: row.position }));
  }

  async setAway(email: string, until: Date, note?: string): Promise<void> {
    if (!Number.isFinite(until.getTime())) throw new Error(`setAway for ${email}: until is not a valid date`);
    await this.pool.query(
      `insert into rep_away (email, until, note) values ($1, $2, $3)
       on conflict (email) do update set until = excluded.until, note = excluded.note, set_at = now()`,
      [normaliseEmail(email), until, note ?? null],
    );
  }

  async clearAway(email: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('delete from rep_away where email = $1', [normaliseEmail(email)]);
    return rowCount === 1;
  }

  async awayReps(now: Date): Promise<AwayRep[]> {
    const { rows } = await this.pool.query<{ email: string; until: Date; note: string | null }>(
      'select email, until, note from rep_away where until > $1 order by until, email',
      [now],
    );
    return rows.map((row) => ({ email: row.email, until: row.until, ...(row.note !== null && { note: row.note }) }));
  }

  async createApiKey(name: string, dailyCap?: number, origins?: string[]): Promise<{ id: string; key: string }> {
    const made = newApiKey();
    await this.pool.query('insert into api_keys (id, name, secret_sha256, daily_cap, origins) values ($1, $2, $3, $4, $5)', [
      made.id,
      name,
      made.secretSha256,
      dailyCap ?? null,
      origins ?? null,
    ]);
    return { id: made.id, key: made.key };
  }

  async apiKeys(): Promise<ApiKey[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; daily_cap: number | null; origins: string[] | null; created_at: Date; last_used_at: Date | null; revoked_at: Date | null }>(
      'select id, name, daily_cap, origins, created_at, last_used_at, revoked_at from api_keys order by created_at, id',
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      ...(row.daily_cap !== null && { dailyCap: row.daily_cap }),
      ...(row.origins !== null && { origins: row.origins }),
      createdAt: row.created_at,
      ...(row.last_used_at !== null && { lastUsedAt: row.last_used_at }),
      ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
    }));
  }

  async revokeApiKey(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('update api_keys set revoked_at = now() where id = $1 and revoked_at is null', [id]);
    return rowCount === 1;
  }

  async verifyApiKey(presented: string): Promise<VerifiedKey | undefined> {
    const parsed = parseApiKey(presented);
    if (!parsed) return undefined;
    const { rows } = await this.pool.query<{ name: string; secret_sha256: string; daily_cap: number | null; origins: string[] | null; last_used_at: Date | null }>(
      'select name, secret_sha256, daily_cap, origins, last_used_at from api_keys where id = $1 and revoked_at is null',
      [parsed.id],
    );
    const row = rows[0];
    if (!row || !secretMatches(parsed.secret, row.secret_sha256)) return undefined;
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
      await this.pool.query('update api_keys set last_used_at = now() where id = $1', [parsed.id]);
    }
    return { id: parsed.id, name: row.name, ...(row.daily_cap !== null && { dailyCap: row.daily_cap }), ...(row.origins !== null && { origins: row.origins }) };
  }

  async takeDailyJourney(keyId: string, day: string, cap: number): Promise<boolean> {
    // One statement: concurrent requests of one key never take more than the cap between them.
    const { rowCount } = await this.pool.query(
      `insert into api_key_days (key_id, day, journeys) select $1, $2::date, 1 where $3::int >= 1
       on conflict (key_id, day) do update set journeys = api_key_days.journeys + 1 where api_key_days.journeys < $3::int`,
      [keyId, day, cap],
    );
    return rowCount === 1;
  }

  async releaseDailyJourney(keyId: string, day: string): Promise<void> {
    await this.pool.query('update api_key_days set journeys = journeys - 1 where key_id = $1 and day = $2::date and journeys > 0', [keyId, day]);
  }

  async upsertAccount(account: { domain: string; name: string; owner?: string }): Promise<void> {
    // An account file without owners must not erase the owners sales set.
    await this.pool.query(
      `insert into accounts (domain, name, owner) values ($1, $2, $3)
       on conflict (domain) do update set
         name = excluded.name,
         owner = coalesce(excluded.owner, accounts.owner),
         updated_at = now()`,
      [normaliseDomain(account.domain), account.name, account.owner === undefined ? null : normaliseEmail(account.owner)],
    );
  }

  async accountOwner(domain: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ owner: string | null }>('select owner from accounts where domain = $1', [normaliseDomain(domain)]);
    return rows[0]?.owner ?? undefined;
  }

  close(): Promise<void> {
    // pg throws if a pool is ended twice; a shutdown path may well close the store twice.
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async latestAssignment(leadId: string, client: Pool | PoolClient = this.pool): Promise<Assignment | undefined> {
    const { rows } = await client.query<AssignmentRow>(
      `select ${ASSIGNMENT_COLUMNS} from assignments where lead_id = $1 order by status = 'open' desc, id desc limit 1`,
      [leadId],
    );
    return rows[0] && toAssignment(rows[0]);
  }

  /**
   * Inserts the assignments (one statement), takes their leads out of the queue, and saves the
   * pool's turn when it moved. Inside assignLead's or drainQueue's transaction, under the lock.
   */
  private async insertAssignments(
    client: PoolClient,
    routing: RoutingRequest,
    assigned: NewAssignment[],
    turn: TurnState | undefined,
  ): Promise<Assignment[]> {
    const { rows } = await client.query<AssignmentRow>(
      `with inserted as (
         insert into assignments (lead_id, rep, pool, rule, strategy, why, assigned_at)
         select lead_id, rep, $4, rule, $5, why::jsonb, $6
         from unnest($1::text[], $2::text[], $3::text[], $7::text[]) with ordinality as a(lead_id, rep, rule, why, n)
         order by n
         returning ${ASSIGNMENT_COLUMNS}, id
       ), dequeued as (
         delete from routing_queue where lead_id = any($1::text[])
       ), turned as (
         insert into pool_turns (pool, turn) select $4, $8::jsonb where $8::jsonb is not null
         on conflict (pool) do update set turn = excluded.turn, updated_at = now()
       )
       select ${ASSIGNMENT_COLUMNS} from inserted order by id`,
      [
        assigned.map((a) => a.leadId),
        assigned.map((a) => a.rep),
        assigned.map((a) => a.rule),
        routing.pool,
        routing.strategy,
        routing.now,
        // Serialised here, as in recordEvents: pg would turn nested arrays into Postgres array literals.
        assigned.map((a) => JSON.stringify(a.why)),
        turn === undefined ? null : JSON.stringify(turn),
      ],
    );
    return rows.map(toAssignment);
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

/**
 * Select-list columns for the reps' open leads and absences at `now`, and the pool's turn, given the
 * placeholders of the pool, the reps (text[]) and now. Times as epoch ms, so no json formatting of
 * time zones gets in the way.
 */
function routingFacts(pool: string, reps: string, now: string): string {
  return `
  (select coalesce(json_object_agg(rep, n), '{}') from
     (select rep, count(*)::int as n from assignments where status = 'open' and rep = any(${reps}::text[]) group by rep) as c) as open_leads,
  (select coalesce(json_object_agg(email, (extract(epoch from until) * 1000)::float8), '{}')
     from rep_away where email = any(${reps}::text[]) and until > ${now}::timestamptz) as away,
  (select turn from pool_turns where pool = ${pool}) as turn`;
}

/** An AssignRequest's routing part, checked and with e-mails normalised. */
interface RoutingRequest {
  pool: string;
  strategy: Strategy;
  candidates: Candidate[];
  now: Date;
  respectWorkingHours: boolean;
}

function routingRequest(req: Omit<AssignRequest, 'leadId' | 'rule' | 'preferred' | 'reassignFrom'>): RoutingRequest {
  if (!Number.isFinite(req.now.getTime())) throw new Error(`routing in pool ${req.pool}: now is not a valid date`);
  const candidates = req.candidates.map(normaliseCandidate);
  // A member listed twice would get two turns; the config forbids it, a hand-built request might not.
  const seen = new Set<string>();
  return {
    pool: req.pool,
    strategy: req.strategy,
    candidates: candidates.filter((c) => !seen.has(c.email) && seen.add(c.email)),
    now: req.now,
    respectWorkingHours: req.respectWorkingHours,
  };
}

function normaliseCandidate(candidate: Candidate): Candidate {
  return { ...candidate, email: normaliseEmail(candidate.email) };
}

function leadIdOf(leadId: string): string {
  if (!leadId.trim()) throw new Error('A lead ID is required');
  return leadId;
}

/** "Acme.com", "@acme.com " and "acme.com" are one account. */
function normaliseDomain(domain: string): string {
  const normal = domain.trim().toLowerCase().replace(/^@/, '');
  if (!normal) throw new Error('A domain is required');
  return normal;
}

/** A candidate's facts from the lock's read, and a way to count a lead given out in this transaction. */
function factsOf(found: RoutingFactsRow): ((c: Candidate) => CandidateFacts) & { add(rep: string): void } {
  const open = new Map(Object.entries(found.open_leads));
  const facts = (c: Candidate): CandidateFacts => {
    const away = found.away[c.email];
    return { ...c, openLeads: open.get(c.email) ?? 0, ...(away !== undefined && { awayUntil: new Date(away) }) };
  };
  return Object.assign(facts, { add: (rep: string) => void open.set(rep, (open.get(rep) ?? 0) + 1) });
}

/**
 * The preferred rep (the account owner) when eligible, else the pool's pick. A preferred rep passed
 * over is listed first, the reason naming why they were preferred, and not again as a pool member.
 * The pool's turn moves only when the pool's strategy chose.
 */
function choose(
  routing: RoutingRequest,
  facts: (c: Candidate) => CandidateFacts,
  turn: TurnState,
  options: PickOptions,
  preferred: { rep: Candidate; why: string } | undefined,
): { rep?: string; skipped: Skip[]; turn: TurnState; preferred?: string } {
  let passedOver: Skip | undefined;
  if (preferred) {
    const reason = whyIneligible(facts(preferred.rep), options);
    if (reason === undefined) return { rep: preferred.rep.email, skipped: [], turn, preferred: preferred.why };
    passedOver = { rep: preferred.rep.email, reason: `${reason} (${preferred.why})` };
  }
  const pick = pickRep(routing.strategy, routing.candidates.map(facts), turn, options);
  if (!passedOver) return pick;
  return { ...pick, skipped: [passedOver, ...pick.skipped.filter((s) => s.rep !== passedOver.rep)] };
}

function toAssignment(row: AssignmentRow): Assignment {
  return {
    leadId: row.lead_id,
    rep: row.rep,
    pool: row.pool,
    rule: row.rule,
    strategy: row.strategy,
    status: row.status,
    assignedAt: row.assigned_at,
    ...(row.closed_at !== null && { closedAt: row.closed_at }),
    ...(row.close_reason !== null && { closeReason: row.close_reason }),
    why: row.why,
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
