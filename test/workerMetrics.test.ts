// `pipewright worker` as operations run it when scaling and monitoring: tuned from the environment
// and serving the SDK's Prometheus metrics, on the dev server with a real PostgreSQL store. The
// metrics prove the tuning reached the SDK (task slots, pollers) and that a journey's work is counted.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../client/freePort';
import { addLead, sendLeadEvent } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { openStore, type Store } from '../store';
import { pipewright, startPipewright, stop } from './support/cli';
import { fittingLead, sandboxConfigFile, sdrNoticeAbout } from './support/fixtures';
import { startPostgres } from './support/postgres';
import { devServerEnv } from './support/temporal';

// Dev server, PostgreSQL and the worker process starting side by side on 2 cores.
jest.setTimeout(180_000);

const taskQueue = 'worker-metrics';
const configFile = sandboxConfigFile();
const tuning = {
  PIPEWRIGHT_WORKFLOW_CACHE: '50',
  PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS: '6',
  PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES: '7',
  PIPEWRIGHT_WORKFLOW_POLLERS: '4',
  PIPEWRIGHT_ACTIVITY_POLLERS: '3',
};

let env: TestWorkflowEnvironment;
let sink: MailSink;
let postgres: Awaited<ReturnType<typeof startPostgres>>;
let store: Store;
let config: Config;
let worker: { child: ChildProcess; output: () => string };
let metricsUrl: string;

beforeAll(async () => {
  [env, sink, postgres] = await Promise.all([devServerEnv(), startMailSink(), startPostgres()]);
  // Opened (and migrated) here first, so the worker does not race this process to migrate it.
  store = await openStore(postgres.url);
  config = loadConfig(configFile);
  const address = `127.0.0.1:${await freePort()}`;
  metricsUrl = `http://${address}/metrics`;
  worker = await startPipewright(
    ['worker'],
    {
      PIPEWRIGHT_DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      PIPEWRIGHT_TASK_QUEUE: taskQueue,
      PIPEWRIGHT_SMTP_URL: sink.url,
      PIPEWRIGHT_CONFIG: configFile,
      PIPEWRIGHT_METRICS_ADDRESS: address,
      ...tuning,
    },
    /worker: polling task queue/,
  );
});

afterAll(async () => {
  if (worker) await stop(worker.child);
  await store?.close();
  await sink?.close();
  await env?.teardown();
  await postgres?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (comments and blank lines skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of match[2]?.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples on this test's task queue whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && s.labels.task_queue === taskQueue && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let lastScrape = '';
async function scrape(): Promise<Sample[]> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  lastScrape = await response.text();
  return parseMetrics(lastScrape);
}

/** Scrapes until `holds` is true of the samples; on timeout, fails showing the last scrape. */
async function untilMetrics(what: string, holds: (samples: Sample[]) => boolean, timeoutMs = 60_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (holds(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last scrape of ${metricsUrl}:\n${lastScrape}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

test('the worker says where its metrics are and the capacity it runs with', () => {
  expect(worker.output()).toContain(`worker: Prometheus metrics at ${metricsUrl}\n`);
  expect(worker.output()).toMatch(/worker: polling task queue "worker-metrics" .*; cache 50 journeys, at once 6 workflow tasks and 7 activities, pollers 4 workflow and 3 activity\n/);
});

test('the SDK serves its metrics there, with the task slots and pollers the environment set', async () => {
  const samples = await untilMetrics(
    'every poller polling',
    (s) => total(s, 'temporal_num_pollers', { poller_type: 'activity_task' }) === 3 && total(s, 'temporal_num_pollers', { poller_type: 'workflow_task' }) + total(s, 'temporal_num_pollers', { poller_type: 'sticky_workflow_task' }) === 4,
  );
  expect(total(samples, 'temporal_worker_start')).toBe(1);
  // Idle (nothing started on this task queue yet): every slot is free.
  expect(total(samples, 'temporal_worker_task_slots_available', { worker_type: 'WorkflowWorker' })).toBe(6);
  expect(total(samples, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' })).toBe(7);
  expect(total(samples, 'temporal_worker_task_slots_used', { worker_type: 'ActivityWorker' })).toBe(0);
});

test('a journey\'s workflow tasks, activities and its end are counted', async () => {
  const journey = { workflow_type: 'leadJourney' };
  const before = await scrape();
  expect(total(before, 'temporal_workflow_completed', journey)).toBe(0);
  expect(total(before, 'temporal_workflow_task_execution_latency_count', journey)).toBe(0);

  const lead = fittingLead();
  const { leadId, started } = await addLead(env.client, store, taskQueue, config, lead);
  expect(started).toBe(true);
  // The SDR notice is sent (the journey's quick path: a local activity); then the lead is
  // disqualified, which ends the journey after releasing the lead (an activity).
  await sink.waitFor(sdrNoticeAbout(lead), 60_000);
  expect(await sendLeadEvent(env.client, store, { email: lead.email }, 'disqualified', 'test')).toEqual({ delivered: true });
  await env.client.workflow.getHandle(leadId).result();

  const after = await untilMetrics('the ended journey counted', (s) => total(s, 'temporal_workflow_completed', journey) === 1);
  expect(total(after, 'temporal_workflow_task_execution_latency_count', journey)).toBeGreaterThanOrEqual(2);
  expect(total(after, 'temporal_local_activity_execution_latency_count', journey)).toBeGreaterThan(0);
  expect(total(after, 'temporal_activity_execution_latency_count', journey)).toBeGreaterThan(0);
});

test('`pipewright worker --help` gives each variable a line, with its default', async () => {
  const help = await pipewright(['worker', '--help']);
  expect(help.code).toBe(0);
  for (const name of [...Object.keys(tuning), 'PIPEWRIGHT_METRICS_ADDRESS']) {
    expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S.* \\[[^\\]]+\\]$`, 'm'));
  }
  expect(help.stdout).toContain('[SDK: 100]');
  expect(help.stdout).toContain('[SDK: 40]');
});

describe('a bad setting stops `pipewright worker` before it connects to anything, naming the variable', () => {
  // Unreachable on purpose: a worker that got past its settings would fail here, with another message.
  const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1', PIPEWRIGHT_DATABASE_URL: 'postgres://127.0.0.1:1/none' };

  test.each([
    [{ PIPEWRIGHT_METRICS_ADDRESS: 'localhost:9464' }, /^pipewright: PIPEWRIGHT_METRICS_ADDRESS="localhost:9464": expected IP:PORT to serve Prometheus metrics on/m],
    [{ PIPEWRIGHT_METRICS_ADDRESS: '9464' }, /^pipewright: PIPEWRIGHT_METRICS_ADDRESS="9464": expected IP:PORT/m],
    [{ PIPEWRIGHT_WORKFLOW_POLLERS: '1' }, /^pipewright: PIPEWRIGHT_WORKFLOW_POLLERS="1": expected a whole number of workflow task polls of at least 2/m],
  ])('%p', async (bad, message) => {
    const result = await pipewright(['worker'], { env: { ...nowhere, ...bad } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toMatch(/worker: polling/);
  });

  test('a metrics port already in use', async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    try {
      const result = await pipewright(['worker'], { env: { ...nowhere, PIPEWRIGHT_METRICS_ADDRESS: `127.0.0.1:${port}` } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^pipewright: PIPEWRIGHT_METRICS_ADDRESS=127\\.0\\.0\\.1:${port}: cannot serve metrics there: .*Address already in use`, 'm'));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
