// `pipewright apikey ...`: the keys web forms, CRMs and scripts send to the intake's private API
// (leads, events, state). A key is shown once, when it is made; the store keeps only its hash.
import { Command, InvalidArgumentError } from 'commander';
import { positive, withStore } from './commandContext';

const when = (date: Date | undefined) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : '-');

export function registerApiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description("API keys for the intake's private API (Authorization: Bearer KEY)");

  apikey
    .command('create')
    .description('make a key and print it once: keep it in your secret store, it cannot be shown again')
    .requiredOption('--name <name>', 'who or what uses it ("website form", "hubspot webhook")', (name: string) => {
      if (!name.trim() || name.length > 100) throw new InvalidArgumentError('expected a name of 1-100 characters');
      return name.trim();
    })
    .option('--daily-cap <n>', 'new journeys the key may start a day (UTC); over it, POST /leads answers 429', positive)
    .option(
      '--site-origin <origin>',
      "make a site key instead: it may only post the public lead form (POST /forms/leads), from a page of this origin (repeat for more), and is safe to put in the page",
      (value: string, all: string[] = []) => [...all, webOrigin(value)],
    )
    .action((opts: { name: string; dailyCap?: number; siteOrigin?: string[] }) =>
      withStore(async (store) => {
        const { id, key } = await store.createApiKey(opts.name, opts.dailyCap, opts.siteOrigin);
        const what = opts.siteOrigin ? `Site key ${id} ("${opts.name}", for forms on ${opts.siteOrigin.join(', ')})` : `API key ${id} ("${opts.name}")`;
        console.error(`${what} made; it is printed below once and never again:`);
        console.log(key);
      }),
    );

  apikey
    .command('list')
    .description('every key: id, name, when made, last used, revoked (never the key itself)')
    .option('--json', 'as JSON')
    .action((opts: { json?: boolean }) =>
      withStore(async (store) => {
        const keys = await store.apiKeys();
        if (opts.json) return console.log(JSON.stringify(keys, null, 2));
        if (keys.length === 0) return console.log('no API keys yet: `pipewright apikey create --name NAME` makes one');
        console.log(['id'.padEnd(12), 'created'.padEnd(16), 'last used'.padEnd(16), 'revoked'.padEnd(16), 'daily cap', 'name'].join('  '));
        for (const k of keys) {
          const name = k.origins ? `${k.name} (site key: ${k.origins.join(', ')})` : k.name;
          console.log([k.id, when(k.createdAt), when(k.lastUsedAt).padEnd(16), when(k.revokedAt).padEnd(16), String(k.dailyCap ?? '-').padEnd(9), name].join('  '));
        }
      }),
    );

  apikey
    .command('revoke <id>')
    .description('stop a key from working, at once (the id from `apikey list`)')
    .action((id: string) =>
      withStore(async (store) => {
        if (!(await store.revokeApiKey(id))) throw new InvalidArgumentError(`no live API key with id ${id} (see \`pipewright apikey list\`)`);
        console.log(`API key ${id} revoked: requests with it are answered 401 from now on`);
      }),
    );
}

/** "https://www.acme.com" as a browser sends it in Origin: scheme, host and a port other than the default. */
export function webOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a web origin such as "https://www.acme.com", got "${value}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new InvalidArgumentError(`expected a web origin such as "https://www.acme.com" (no path), got "${value}"`);
  }
  return url.origin;
}
