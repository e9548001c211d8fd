-- A site key is an API key a web page carries in the open: it may only post the public lead form,
-- and only from these origins (scheme://host[:port]). Null: a private API key, never a site key.
alter table api_keys add column origins text[];
