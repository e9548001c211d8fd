-- Pipewright's system of record: contacts, suppressions, the sends ledger and the journey event log.
-- Addresses are stored already normalised (trimmed, lower case) by the store, so plain text keys suffice.

create table contacts (
  email text primary key,
  first_name text,
  last_name text,
  company text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One row per (address, channel); 'all' is an unsubscribe from everything.
create table suppressions (
  email text not null,
  channel text not null check (channel in ('email', 'sms', 'all')),
  reason text not null,
  source text not null,
  created_at timestamptz not null default now(),
  primary key (email, channel)
);

-- The idempotency ledger: the key is derived from the journey and step, never the attempt, so a
-- retried activity finds its earlier intent instead of sending twice.
create table sends (
  key text primary key,
  journey_id text not null,
  kind text not null,
  channel text not null,
  recipient text not null,
  status text not null check (status in ('sending', 'sent', 'skipped', 'bounced', 'failed')),
  attempts int not null default 1,
  detail text,
  message_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz
);
create index sends_journey_id on sends (journey_id);
create index sends_recipient on sends (recipient);

-- Reporting reads a journey's story in order, or one kind of event over a period.
create table journey_events (
  key text primary key,
  journey_id text not null,
  type text not null,
  at timestamptz not null,
  detail jsonb,
  recorded_at timestamptz not null default now()
);
create index journey_events_journey_at on journey_events (journey_id, at);
create index journey_events_type_at on journey_events (type, at);
