// `pipewright replay` on the dev server: journeys the current code started replay cleanly; a journey
// started by different workflow code (test/fixtures/driftedJourney.ts) is named as a mismatch and
// the command exits 1, as a deploy pipeline needs it to.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import { journeyStateQuery } from '../workflows/messages';
import { pipewright } from './support/cli';
import { exampleConfig, nurtureLead } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, devServerEnv, testWorker } from './support/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let cliEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  [env, sink, db] = await Promise.all([devServerEnv(), startMailSink(), embeddedTestStore()]);
  cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' };
});

afterAll(async () => {
  await db?.close();
  await sink?.close();
  await env?.teardown();
});

test('running journeys replay on this build; one started by other code is named and fails the command', async () => {
  const config = exampleConfig();
  const [bundle, driftedBundle] = await Promise.all([
    bundleWorkflows(),
    bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/driftedJourney'), logger: new DefaultLogger('WARN') }),
  ]);
  const worker = await testWorker(env, bundle, sink, db.store, 'replay-current');
  const driftedWorker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue: 'replay-drifted',
    workflowBundle: driftedBundle,
    // The drifted journey only has to get past its first timer: it waits on its moment and is replayed from there.
    activities: {},
  });
  const current = [nurtureLead(), nurtureLead()];
  const drifted = nurtureLead();
  await Promise.all([worker, driftedWorker].map(async (w) => w.runUntil(async () => {
    if (w === worker) {
      for (const lead of current) await addLead(env.client, db.store, 'replay-current', config, lead);
      // Each has run its first workflow task (a journey answers queries from then on).
      for (const lead of current) await env.client.workflow.getHandle(`lead-${lead.email}`).query(journeyStateQuery);
    } else {
      const { leadId } = await addLead(env.client, db.store, 'replay-drifted', config, drifted);
      // Its first task started the moment's timer; wait for that task to complete.
      const handle = env.client.workflow.getHandle(leadId);
      for (;;) {
        const history = await handle.fetchHistory();
        if (history.events?.some((e) => e.timerStartedEventAttributes)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })));

  const clean = await pipewright(['replay', '--query', 'TaskQueue = "replay-current" AND ExecutionStatus = "Running"'], { env: cliEnv });
  expect(clean).toMatchObject({ code: 0, stderr: '' });
  expect(clean.stdout).toContain('replayed 2 workflow histories');
  expect(clean.stdout).toContain('every one replays');

  const all = await pipewright(['replay'], { env: cliEnv });
  expect(all.code).toBe(1);
  const mismatches = all.stdout.split('\n').filter((l) => l.startsWith('MISMATCH'));
  expect(mismatches).toHaveLength(1);
  expect(mismatches[0]).toContain(`lead-${drifted.email}`);
  expect(mismatches[0]).toContain('DeterminismViolationError');
  expect(all.stderr).toContain('replayed 3 workflow histories');
  expect(all.stderr).toContain('1 would not');

  const limited = await pipewright(['replay', '--limit', '0'], { env: cliEnv });
  expect(limited.code).toBe(1);
  expect(limited.stderr).toContain('--limit');
});
