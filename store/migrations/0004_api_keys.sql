-- API keys for the intake's private API. Only a SHA-256 of each key's secret is kept: the key is
-- shown once, when it is made, and a copy of this table lets nobody in.
create table api_keys (
  id text primary key,
  name text not null,
  secret_sha256 text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
