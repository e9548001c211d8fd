// Every recorded journey must replay on today's workflow code: a change that running journeys
// would replay differently fails here until it is guarded by patched().
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows } from './support/temporal';

const folder = join(__dirname, 'replay', 'histories');
const files = readdirSync(folder).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

test.each(files)('%s replays without nondeterminism', async (file) => {
  const history = JSON.parse(readFileSync(join(folder, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
});

// The worker evaluates every module of the bundle again for each new journey: a library there
// (zod building its schemas, above all) costs CPU per lead. Only the SDK's own modules belong.
test('the workflow bundle holds the SDK and our workflow code, and no other library', () => {
  const packages = new Set([...bundle.code.matchAll(/"\.\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)].map((m) => m[1]));
  expect([...packages].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc']);
  // Built or from source (under ts-jest), our modules are keyed "./dist/config/..." or "./config/...".
  const ours = new Set([...bundle.code.matchAll(/"\.\/(?:dist\/)?(activities|client|config|store|workflows)\/([^"]+)\.[jt]s"/g)].map((m) => `${m[1]}/${m[2]}`));
  expect([...ours].filter((m) => !m.startsWith('workflows/')).sort()).toEqual(['config/duration', 'config/vocabulary']);
  expect(ours).toContain('workflows/leadJourney');
});
