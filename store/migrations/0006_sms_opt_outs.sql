-- Numbers that texted an opt-out keyword (STOP, UNSUBSCRIBE, ...) to our Twilio number: no SMS goes
-- to them, whoever's contact they are, until they text START. Keyed by the number (E.164), since
-- the person who texted is known to Twilio by nothing else.
create table sms_opt_outs (
  phone text primary key,
  keyword text not null,
  created_at timestamptz not null default now()
);

