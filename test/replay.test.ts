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
