-- Lead routing: who owns each lead and why, the leads waiting for a rep, each pool's turn, reps
-- away, and account owners. Every write happens under the store's routing lock (see assignLead).

-- One row per hand-over, kept for the history; reassignment closes one row and opens another.
create table assignments (
  id bigserial primary key,
  lead_id text not null,
  rep text not null,
  pool text not null,
  rule text not null,
  strategy text not null check (strategy in ('round-robin', 'weighted', 'least-loaded')),
  status text not null default 'open' check (status in ('open', 'closed', 'reassigned')),
  why jsonb not null, -- { rule, pool, strategy, preferred?, skipped: [{ rep, reason }] }
  assigned_at timestamptz not null, -- the journey's clock
  closed_at timestamptz,
  close_reason text
);
-- A lead has one owner at a time, whatever a bug or a race in the caller does.
create unique index assignments_one_open_per_lead on assignments (lead_id) where status = 'open';
-- Caps count a rep's open leads on every assignment.
create index assignments_open_by_rep on assignments (rep) where status = 'open';
create index assignments_lead on assignments (lead_id, id);

-- Leads no rep could take, served first come, first served per pool (by seq: arrival at the store,
-- not the journeys' clocks, which a time-skipping test server may run apart).
create table routing_queue (
  seq bigserial primary key,
  lead_id text not null unique,
  pool text not null,
  queued_at timestamptz not null,
  why jsonb not null -- { rule, pool, strategy, skipped }: what the last attempt found
);
create index routing_queue_pool_seq on routing_queue (pool, seq);

-- Where each pool's rotation stands: { last, current } (see workflows/rules/routing.ts).
create table pool_turns (
  pool text primary key,
  turn jsonb not null,
  updated_at timestamptz not null default now()
);

-- Reps out of office: no leads until `until`.
create table rep_away (
  email text primary key,
  until timestamptz not null,
  note text,
  set_at timestamptz not null default now()
);

-- Known accounts by e-mail domain, for "account owner first".
create table accounts (
  domain text primary key,
  name text not null,
  owner text,
  updated_at timestamptz not null default now()
);
