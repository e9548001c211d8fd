import { DEFAULT_WORKFLOW_CACHE, workflowCacheSize } from '../worker/workflowCache';

test('the worker keeps 1,000 journeys in its cache unless PIPEWRIGHT_WORKFLOW_CACHE says otherwise', () => {
  expect(workflowCacheSize({})).toBe(DEFAULT_WORKFLOW_CACHE);
  expect(DEFAULT_WORKFLOW_CACHE).toBe(1_000);
  expect(workflowCacheSize({ PIPEWRIGHT_WORKFLOW_CACHE: ' 250 ' })).toBe(250);
});

test.each(['0', '1', '2.5', 'many', '-4'])('PIPEWRIGHT_WORKFLOW_CACHE=%s is refused, naming the variable and what it takes', (value) => {
  expect(() => workflowCacheSize({ PIPEWRIGHT_WORKFLOW_CACHE: value })).toThrow(/^PIPEWRIGHT_WORKFLOW_CACHE=".*": expected a whole number of journeys of at least 2 \(default 1000\)$/);
});
