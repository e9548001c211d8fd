// The worker's capacity and metrics settings as read from the environment (worker/tuning.ts,
// worker/metrics.ts), and the SDK defaults `pipewright worker --help` promises for unset ones.
import { noopMetricMeter } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { compileWorkerOptions } from '@temporalio/worker/lib/worker-options';
import { metricsAddress } from '../worker/metrics';
import { describeTuning, SDK_DEFAULTS, workerTuning } from '../worker/tuning';

test('unset, every knob is left to the SDK and the cache is Pipewright\'s 1,000', () => {
  expect(workerTuning({})).toEqual({ workflowCache: 1_000 });
  expect(workerTuning({ PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES: '  ', PIPEWRIGHT_WORKFLOW_POLLERS: '' })).toEqual({ workflowCache: 1_000 });
});

test('each variable sets its knob', () => {
  expect(
    workerTuning({
      PIPEWRIGHT_WORKFLOW_CACHE: '500',
      PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES: ' 200 ',
      PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS: '80',
      PIPEWRIGHT_WORKFLOW_POLLERS: '20',
      PIPEWRIGHT_ACTIVITY_POLLERS: '1',
    }),
  ).toEqual({ workflowCache: 500, maxConcurrentActivities: 200, maxConcurrentWorkflowTasks: 80, workflowPollers: 20, activityPollers: 1 });
});

test('values given in code win over the environment, which is then not read', () => {
  const env = { PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES: 'lots', PIPEWRIGHT_WORKFLOW_CACHE: '300', PIPEWRIGHT_ACTIVITY_POLLERS: '2' };
  expect(workerTuning(env, { maxConcurrentActivities: 5, workflowCache: 10 })).toEqual({ workflowCache: 10, maxConcurrentActivities: 5, activityPollers: 2 });
});

test.each([
  ['PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES', '0', 'activities run at once of at least 1', '100'],
  ['PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES', '2.5', 'activities run at once of at least 1', '100'],
  ['PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS', '1', 'workflow tasks run at once of at least 2', '40'],
  ['PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS', 'forty', 'workflow tasks run at once of at least 2', '40'],
  ['PIPEWRIGHT_WORKFLOW_POLLERS', '1', 'workflow task polls of at least 2', 'min(10, workflow tasks)'],
  ['PIPEWRIGHT_WORKFLOW_POLLERS', '-3', 'workflow task polls of at least 2', 'min(10, workflow tasks)'],
  ['PIPEWRIGHT_ACTIVITY_POLLERS', '0', 'activity task polls of at least 1', 'min(10, activities)'],
  ['PIPEWRIGHT_ACTIVITY_POLLERS', '1e400', 'activity task polls of at least 1', 'min(10, activities)'],
])('%s=%s is refused, naming the variable, what it takes and its default', (name, value, takes, sdkDefault) => {
  expect(() => workerTuning({ [name]: value })).toThrow(`${name}="${value}": expected a whole number of ${takes} (unset: the SDK's default, ${sdkDefault})`);
});

test('a bad PIPEWRIGHT_WORKFLOW_CACHE is still refused as before', () => {
  expect(() => workerTuning({ PIPEWRIGHT_WORKFLOW_CACHE: '1' })).toThrow(/^PIPEWRIGHT_WORKFLOW_CACHE="1": expected a whole number of journeys of at least 2/);
});

test('pollers beyond the task slots they would wait for are refused, against the SDK default slots too', () => {
  expect(() => workerTuning({ PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS: '4', PIPEWRIGHT_WORKFLOW_POLLERS: '5' })).toThrow(
    /^PIPEWRIGHT_WORKFLOW_POLLERS=5: more than the 4 workflow tasks the worker runs at once \(PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS\)/,
  );
  expect(() => workerTuning({ PIPEWRIGHT_ACTIVITY_POLLERS: '101' })).toThrow(/^PIPEWRIGHT_ACTIVITY_POLLERS=101: more than the 100 activities .*\(PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES\)/);
  expect(workerTuning({ PIPEWRIGHT_ACTIVITY_POLLERS: '100', PIPEWRIGHT_WORKFLOW_POLLERS: '40' })).toMatchObject({ activityPollers: 100, workflowPollers: 40 });
});

test('more workflow tasks at once than journeys cached is refused; the SDK default of 40 beside a small cache is not', () => {
  expect(() => workerTuning({ PIPEWRIGHT_WORKFLOW_CACHE: '10', PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS: '11' })).toThrow(
    /^PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS=11: more than the 10 journeys the worker caches \(PIPEWRIGHT_WORKFLOW_CACHE\)/,
  );
  expect(workerTuning({ PIPEWRIGHT_WORKFLOW_CACHE: '10' })).toEqual({ workflowCache: 10 });
});

describe('the SDK (@temporalio/worker, as installed)', () => {
  const compile = (options: object) => compileWorkerOptions({ taskQueue: 'tuning', activities: { noop: async () => undefined }, ...options }, new DefaultLogger('ERROR'), noopMetricMeter);

  test('has the defaults the help text states', () => {
    const options = compile({ maxCachedWorkflows: 1_000 });
    expect(describeTuning(options)).toBe(
      `cache 1000 journeys, at once ${SDK_DEFAULTS.maxConcurrentWorkflowTasks} workflow tasks and ${SDK_DEFAULTS.maxConcurrentActivities} activities, ` +
        `pollers ${SDK_DEFAULTS.pollersCap} workflow and ${SDK_DEFAULTS.pollersCap} activity`,
    );
    expect(SDK_DEFAULTS).toEqual({ maxConcurrentActivities: 100, maxConcurrentWorkflowTasks: 40, pollersCap: 10 });
    // "min(10, slots)": fewer slots than 10 bring the pollers down with them.
    expect(describeTuning(compile({ maxCachedWorkflows: 50, maxConcurrentWorkflowTaskExecutions: 4, maxConcurrentActivityTaskExecutions: 3 }))).toBe(
      'cache 50 journeys, at once 4 workflow tasks and 3 activities, pollers 4 workflow and 3 activity',
    );
  });

  test('takes pollers from the poller behaviours, and ignores maxConcurrent*TaskPolls (why createWorker does not use them)', () => {
    expect(describeTuning(compile({ maxCachedWorkflows: 50, maxConcurrentWorkflowTaskPolls: 3, maxConcurrentActivityTaskPolls: 2 }))).toMatch(/pollers 10 workflow and 10 activity$/);
    expect(
      describeTuning(compile({ maxCachedWorkflows: 50, workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 3 }, activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 } })),
    ).toMatch(/pollers 3 workflow and 2 activity$/);
  });
});

describe('PIPEWRIGHT_METRICS_ADDRESS', () => {
  test('unset or blank: no metrics', () => {
    expect(metricsAddress({})).toBeUndefined();
    expect(metricsAddress({ PIPEWRIGHT_METRICS_ADDRESS: ' ' })).toBeUndefined();
  });

  test.each(['0.0.0.0:9464', '127.0.0.1:9464', '10.1.2.3:65535', '[::]:9464', '[::1]:1'])('%s is taken as it is', (address) => {
    expect(metricsAddress({ PIPEWRIGHT_METRICS_ADDRESS: ` ${address} ` })).toBe(address);
  });

  test.each(['localhost:9464', '9464', ':9464', '0.0.0.0', '0.0.0.0:', '0.0.0.0:0', '0.0.0.0:65536', '256.0.0.1:9464', '::1:9464', '[localhost]:9464', 'http://0.0.0.0:9464', '0.0.0.0:9464/metrics'])(
    '%s is refused, naming the variable and what it takes',
    (address) => {
      expect(() => metricsAddress({ PIPEWRIGHT_METRICS_ADDRESS: address })).toThrow(
        `PIPEWRIGHT_METRICS_ADDRESS="${address}": expected IP:PORT to serve Prometheus metrics on, such as 0.0.0.0:9464 (every interface), 127.0.0.1:9464 or [::]:9464; an IP address, not a host name, and a port from 1 to 65535`,
      );
    },
  );
});
