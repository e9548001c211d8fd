// One config in force at a time: validated versions in the store, applied, shown, compared and rolled
// back through the CLI as an operator would; and the module every way a lead gets in reads it through.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activeConfig, activeConfigCache, applyConfigFile } from '../client/configVersions';
import { loadConfig } from '../config/load';
import { ValidationError } from '../config/validation';
import type { Store } from '../store';
import type { ActiveConfig, ConfigActivation, ConfigVersion } from '../store/types';
import { pipewright } from './support/cli';
import { exampleConfigFile } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-config-versions-'));
const example = readFileSync(exampleConfigFile, 'utf8');
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const v1File = write('v1.yaml', example);
// A new template for the habits step and a call offered before the last e-mail.
const v2File = write(
  'v2.yaml',
  example
    .replace('  nurture-call:\n', '  nurture-habits-v2:\n    subject: "Three habits, {{lead.firstName}}"\n    body: "Hi {{lead.firstName}}, three habits. {{unsubscribeUrl}}"\n  nurture-call:\n')
    .replace('{ id: habits, email: nurture-habits }', '{ id: habits, email: nurture-habits-v2 }')
    .replace('      - { id: call-offer, email: nurture-call }', '      - { id: check-in, task: call, template: a-call }\n      - { id: call-offer, email: nurture-call }'),
);
const brokenFile = write('broken.yaml', example.replace('{ id: wait-3d, wait: 3d }', '{ id: wait-3d, wait: 3 days }'));

// Each step is a CLI process (a second or more each on a busy 2-core machine): a long test by count, not by waiting.
jest.setTimeout(300_000);

describe('the CLI against an embedded store', () => {
  let db: TestStore;
  let env: NodeJS.ProcessEnv;
  // Nothing listens there: a command that reached Temporal would fail with "cannot reach Temporal".
  const noTemporal = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const run = (...args: string[]) => pipewright(args, { env });

  beforeAll(async () => {
    db = await embeddedTestStore();
    env = { PIPEWRIGHT_DATABASE_URL: db.url, ...noTemporal };
  });
  afterAll(async () => db?.close());

  test('before any apply, show says how to apply one and history is empty', async () => {
    const shown = await run('config', 'show');
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain('no config version is active yet: `pipewright config apply FILE` makes one active');
    expect(await run('config', 'history')).toMatchObject({ code: 0, stdout: 'no config version applied yet\n' });
  });

  test('apply -> show -> apply a changed file -> history -> diff -> apply v1 again (a rollback)', async () => {
    expect(await run('config', 'apply', v1File)).toMatchObject({ code: 0, stdout: 'config version 1 is now active (was none)\n', stderr: '' });
    expect(await run('config', 'apply', v1File)).toMatchObject({ code: 0, stdout: 'config version 1 is already active\n' });

    const shown = await run('config', 'show');
    expect(shown.code).toBe(0);
    expect(shown.stdout.split('\n')).toEqual([
      expect.stringMatching(/^config version 1: active since \d{4}-\d\d-\d\dT\S+Z, by \S+ \(config apply\)$/),
      expect.stringMatching(/^sha256 [0-9a-f]{12}$/),
      'cadences: recycle (7 steps), nurture (5 steps), tier-a (18 steps), tier-b (7 steps), tier-c (3 steps)',
      `templates: ${Object.keys(loadConfig(v1File).templates).length}`,
      '',
    ]);
    const json = await run('config', 'show', '--json');
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(loadConfig(v1File))));

    const applied = await run('config', 'apply', v2File);
    expect(applied.code).toBe(0);
    expect(applied.stdout.split('\n')).toEqual([
      'config version 2 is now active (was 1)',
      '  cadence nurture: step habits changed (email: nurture-habits -> nurture-habits-v2)',
      '  cadence nurture: step check-in added at position 5 (task: call (a-call))',
      '  template nurture-habits-v2 added',
      'journeys already running keep the version they started with; to move them: pipewright cadence migrate nurture --config FILE',
      '',
    ]);

    const history = await run('config', 'history');
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^v2 +\S+Z +\S+ \(config apply\) +[0-9a-f]{12} +\(active\)$/),
      expect.stringMatching(/^v1 +\S+Z +\S+ \(config apply\) +[0-9a-f]{12}$/),
    ]);

    const diff = await run('config', 'diff', 'v1', 'v2');
    expect(diff).toMatchObject({ code: 0, stderr: '' });
    expect(diff.stdout).toBe(
      [
        'cadence nurture: step habits changed (email: nurture-habits -> nurture-habits-v2)',
        'cadence nurture: step check-in added at position 5 (task: call (a-call))',
        'template nurture-habits-v2 added',
        '',
      ].join('\n'),
    );
    // A stored version against a file, and the other way round.
    expect(await run('config', 'diff', 'v2', v2File)).toMatchObject({ code: 0, stdout: 'no changes\n' });
    expect((await run('config', 'diff', v2File, 'v1')).stdout).toContain('template nurture-habits-v2 removed');

    // Applying v1's text again reuses version 1 and makes it active: a rollback.
    expect(await run('config', 'apply', v1File)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^config version 1 is now active \(was 2\)\n/) });
    const after = (await run('config', 'history')).stdout.trim().split('\n');
    expect(after.map((line) => line.split(/\s+/)[0])).toEqual(['v1', 'v2', 'v1']);
    expect(after[0]).toMatch(/\(active\)$/);
    expect((await run('config', 'show')).stdout).toMatch(/^config version 1: active since .*\nsha256 [0-9a-f]{12}, activated 2 times\n/);
    expect((await run('config', 'show', '--version', '2')).stdout).toMatch(/^config version 2: not active \(last active from \S+Z to \S+Z, by \S+ \(config apply\)\)\n/);
    expect(JSON.parse((await run('config', 'show', '--version', '2', '--json')).stdout).templates).toHaveProperty('nurture-habits-v2');
  });

  test('a broken file is refused with the field named, and the active version stays', async () => {
    const before = (await run('config', 'history')).stdout;
    const refused = await run('config', 'apply', brokenFile);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^${brokenFile} is not valid:\ncadences\\.nurture\\.steps\\[1\\]\\.wait: expected a duration`));
    expect(refused.stdout).toBe('');
    expect((await run('config', 'history')).stdout).toBe(before);
    expect((await run('config', 'show')).stdout).toMatch(/^config version 1: active/);
  });

  test('diff: two files need no store; an unknown version is an error', async () => {
    const files = await pipewright(['config', 'diff', v1File, v2File], { env: { PIPEWRIGHT_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' } });
    expect(files).toMatchObject({ code: 0, stderr: '' });
    expect(files.stdout.split('\n')).toHaveLength(4);
    const missing = await run('config', 'diff', 'v1', 'v99');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no config version 99 in the store');
  });

  test('cadence list shows the active version\'s cadences with their steps', async () => {
    const listed = await run('cadence', 'list');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines[0]).toMatch(/^config version 1 \(active since \S+Z\)$/);
    // Every cadence of the file, in its order: the closed-lost recycle first, then the nurture.
    expect(lines.filter((l) => /^\S/.test(l)).slice(1).map((l) => l.split(':')[0])).toEqual(['recycle', 'nurture', 'tier-a', 'tier-b', 'tier-c']);
    expect(lines[1]).toBe('recycle: 7 steps; exits on replied, meeting-booked, unsubscribed, bounced, converted');
    const nurture = lines.indexOf('nurture: 5 steps, for leads outside the ICP; exits on replied, meeting-booked, unsubscribed, bounced, disqualified, converted');
    expect(nurture).toBeGreaterThan(1);
    expect(lines.slice(nurture + 1, nurture + 6).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['1', 'guide', 'email', 'nurture-guide'],
      ['2', 'wait-3d', 'wait', '3d'],
      ['3', 'habits', 'email', 'nurture-habits'],
      ['4', 'wait-4d', 'wait', '4d'],
      ['5', 'call-offer', 'email', 'nurture-call'],
    ]);
    expect(listed.stdout).toContain('tier-a: 18 steps, for tier A accounts');
    expect(listed.stdout).toMatch(/ {2}1 +intro +email +a-intro-1 \| a-intro-2\n/);
    expect((await run('cadence', 'list', '--config', v2File)).stdout).toMatch(/ {2}5 +check-in +task +call \(a-call\)\n/);
  });

  test('cadence migrate checks the file and the cadence name before applying anything or reaching Temporal', async () => {
    const before = (await run('config', 'history')).stdout;
    for (const args of [['--dry-run'], []]) {
      const unknown = await run('cadence', 'migrate', 'nurtur', '--config', v2File, ...args);
      expect(unknown).toMatchObject({ code: 1, stdout: '' });
      expect(unknown.stderr).toBe(`pipewright: no cadence named "nurtur" in ${v2File}: expected one of recycle, nurture, tier-a, tier-b, tier-c\n`);
      const broken = await run('cadence', 'migrate', 'nurture', '--config', brokenFile, ...args);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(new RegExp(`^${brokenFile} is not valid:\ncadences\\.nurture\\.steps\\[1\\]\\.wait: `));
    }
    const noConfig = await run('cadence', 'migrate', 'nurture');
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toContain("required option '--config <file>' not specified");
    expect((await run('config', 'history')).stdout).toBe(before);
    // A known cadence goes on to Temporal, which is not there: nothing was applied for a dry run.
    const dry = await run('cadence', 'migrate', 'nurture', '--config', v2File, '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    expect((await run('config', 'history')).stdout).toBe(before);
  });

  test('lead add refuses --config and says what to run instead', async () => {
    const lead = write('lead.json', readFileSync(join(__dirname, '..', 'config', 'examples', 'leads', 'nurture.json'), 'utf8'));
    const added = await run('lead', 'add', lead, '--config', v2File);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain(`lead add no longer takes --config: one config version is in force for every lead. Run \`pipewright config apply ${v2File}\``);
    expect((await run('lead', 'add', '--help')).stdout).toContain('New journeys follow the active config version');
  });

  test('an active version that no longer validates is named, before anything starts', async () => {
    // As if an older Pipewright had stored it: today's schema refuses its text.
    const stale = example.replace('  sandbox: false\n', '  sandbox: false\n  quietHours: true\n');
    const { version } = await db.store.applyConfig({ source: stale, config: { stale: true }, by: 'an older pipewright' });
    const lead = write('lead2.json', readFileSync(join(__dirname, '..', 'config', 'examples', 'leads', 'nurture.json'), 'utf8'));
    const added = await run('lead', 'add', lead);
    expect(added.code).toBe(1);
    expect(added.stderr).toMatch(
      new RegExp(`^config version ${version} \\(the active one; \`pipewright config apply FILE\` replaces it\\) is not valid:\nsending\\.quietHours: unknown key "quietHours"`),
    );
    await expect(activeConfig(db.store)).rejects.toThrow(ValidationError);
    // Applying a good file fixes it.
    expect((await run('config', 'apply', v1File)).stdout).toMatch(new RegExp(`^config version 1 is now active \\(was ${version}\\)\n`));
  });
});

describe('activeConfig and its cache', () => {
  /** The four config methods of the store, in memory, counting reads. */
  function memoryStore(): Store & { reads: number } {
    const versions: (ConfigVersion & { sha: string })[] = [];
    const activations: ConfigActivation[] = [];
    const fake = {
      url: 'memory',
      reads: 0,
      async applyConfig(input: { source: string; config: unknown; by?: string }) {
        let found = versions.find((v) => v.source === input.source);
        const created = !found;
        if (!found) versions.push((found = { version: versions.length + 1, config: input.config, source: input.source, createdAt: new Date(), sha: 'x' }));
        const activated = activations[0]?.version !== found.version;
        if (activated) activations.unshift({ version: found.version, activatedAt: new Date(), activatedBy: input.by, sha256: found.sha });
        return { version: found.version, created, activated };
      },
      async activeConfig(): Promise<ActiveConfig | undefined> {
        fake.reads++;
        const a = activations[0];
        const v = a && versions.find((x) => x.version === a.version)!;
        return v && { version: v.version, config: v.config, source: v.source, activatedAt: a!.activatedAt };
      },
      async configVersion(version: number) {
        return versions.find((v) => v.version === version);
      },
      async configHistory() {
        return activations;
      },
    };
    return fake as unknown as Store & { reads: number };
  }

  test('with no version stored, the fallback file is validated and applied, once', async () => {
    const store = memoryStore();
    const first = await activeConfig(store, v2File, 'test');
    expect(first).toMatchObject({ version: 1, source: 'file', file: v2File });
    expect(first.config.templates).toHaveProperty('nurture-habits-v2');
    expect(await activeConfig(store, v1File)).toMatchObject({ version: 1, source: 'store' });
    expect((await store.configHistory()).map((a) => a.activatedBy)).toEqual(['test']);
  });

  test('a broken fallback file applies nothing', async () => {
    const store = memoryStore();
    await expect(activeConfig(store, brokenFile)).rejects.toThrow(/cadences\.nurture\.steps\[1\]\.wait/);
    expect(await store.configHistory()).toEqual([]);
  });

  test('applyConfigFile says whether it created and activated a version, and which it replaced', async () => {
    const store = memoryStore();
    expect(await applyConfigFile(store, v1File, 'a')).toMatchObject({ version: 1, created: true, activated: true });
    expect(await applyConfigFile(store, v2File, 'a')).toMatchObject({ version: 2, created: true, activated: true, previous: 1 });
    expect(await applyConfigFile(store, v2File, 'a')).toMatchObject({ version: 2, created: false, activated: false, previous: 2 });
    expect(await applyConfigFile(store, v1File, 'a')).toMatchObject({ version: 1, created: false, activated: true, previous: 2 });
  });

  test('the cache reads the store at most once per interval, and sees a new version after it', async () => {
    const store = memoryStore();
    await applyConfigFile(store, v1File, 'a');
    store.reads = 0;
    // The cache's own clock, moved by hand: a busy machine cannot stretch an interval here.
    let clock = 0;
    const cache = activeConfigCache(store, { maxAgeMs: 200, now: () => clock });
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a.version).toBe(1);
    expect(b).toBe(a);
    expect(store.reads).toBe(1);
    await applyConfigFile(store, v2File, 'a');
    clock = 199;
    expect((await cache.get()).version).toBe(1);
    clock = 200;
    expect((await cache.get()).version).toBe(2);
    cache.reload();
    expect((await cache.get()).config.templates).toHaveProperty('nurture-habits-v2');
  });

  test('a re-read that fails (the store away, a version this code cannot read) keeps the last good version in force, and says why', async () => {
    const store = memoryStore();
    await applyConfigFile(store, v1File, 'a');
    let clock = 0;
    const errors: string[] = [];
    const cache = activeConfigCache(store, { maxAgeMs: 200, now: () => clock, onError: (err, serving) => errors.push(`${serving.version}: ${err.message}`) });
    expect((await cache.get()).version).toBe(1);
    const activeConfig = store.activeConfig;
    store.activeConfig = async () => {
      throw new Error('connection refused');
    };
    clock = 200;
    expect((await cache.get()).version).toBe(1);
    store.activeConfig = activeConfig;
    // Stored by something that did not validate it: the intake must not stop taking leads.
    await store.applyConfig({ source: 'sender: [unclosed', config: {}, by: 'a' });
    clock = 400;
    expect((await cache.get()).version).toBe(1);
    expect(errors).toEqual(['1: connection refused', expect.stringMatching(/^1: config version 2 \(the active one; .*\) is not valid/)]);
    await applyConfigFile(store, v2File, 'a');
    cache.reload();
    expect((await cache.get()).version).toBe(3);
  });
});
