-- A key may start at most `daily_cap` new journeys a day (UTC); null: no cap. What each key
-- started, per day, is counted in api_key_days.
alter table api_keys add column daily_cap integer;

create table api_key_days (
  key_id text not null references api_keys (id),
  day date not null,
  journeys integer not null,
  primary key (key_id, day)
);
