-- Touch limits: whose touch a send is, from which mailbox, at what time on the journey's own clock
-- (not now(): a journey may run on a time-skipping test server), and until when it was deferred.
alter table sends
  add column contact text,
  add column mailbox text,
  add column touch_at timestamptz,
  add column deferred_until timestamptz;

-- 'deferred': held back by a touch limit until deferred_until; claimed again then.
alter table sends drop constraint sends_status_check;
alter table sends add constraint sends_status_check
  check (status in ('sending', 'deferred', 'sent', 'skipped', 'bounced', 'failed'));

create index sends_contact_touch_at on sends (contact, touch_at);
create index sends_mailbox_touch_at on sends (mailbox, touch_at);

-- Every config ever applied, once per distinct YAML text, and which one was active when.
create table config_versions (
  version serial primary key,
  sha256 text unique not null,
  source text not null, -- the YAML as applied
  config jsonb not null, -- as validated
  created_at timestamptz default now()
);

-- The active config is the version of the newest row.
create table config_activations (
  id serial primary key,
  version int not null references config_versions,
  activated_at timestamptz not null default now(),
  activated_by text
);
