// Pipewright on the production topology, on one machine: the real Temporal server with 4 history
// shards and SQL visibility on PostgreSQL (the local cluster `pipewright dev --cluster` runs), with
// the store on the same PostgreSQL. Everything else runs on the dev server or the test server.
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { connectToCluster, startLocalCluster, type ClusterConnections, type LocalCluster } from '../client/cluster';
import { listJourneys, type ListedJourney } from '../client/journeyList';
import { addLead, showLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import { openStore, type Store } from '../store';
import { exampleConfig, fittingLead, sdrNoticeAbout } from './support/fixtures';
import { withClient } from './support/store';
import { bundleWorkflows, testWorker } from './support/temporal';

// The first start builds nothing (globalSetup obtained the binaries), but starts PostgreSQL, runs
// eight schema steps and the server on a busy 2-core machine.
jest.setTimeout(240_000);

const taskQueue = 'cluster';
const sdrs = ['mina.park@pipewright.example', 'sam.rivera@pipewright.example'];
let cluster: LocalCluster;
let env: ClusterConnections;
let sink: MailSink;
let store: Store;
let worker: Awaited<ReturnType<typeof testWorker>>;
let running: Promise<void>;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let bundle: WorkflowBundleWithSourceMap;
  const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);
  [bundle, cluster, sink] = await Promise.all([bundleWorkflows(), startLocalCluster({ shards: 4, log }), startMailSink()]);
  env = await connectToCluster(cluster);
  // The store on the cluster's PostgreSQL, in a database of its own, as a team would run both.
  await withClient(cluster.postgresUrl, (client) => client.query('create database pipewright'));
  const storeUrl = new URL(cluster.postgresUrl);
  storeUrl.pathname = '/pipewright';
  store = await openStore(storeUrl.toString());
  worker = await testWorker(env, bundle, sink, store, taskQueue);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await store?.close();
  await sink?.close();
  await env?.close();
  await cluster?.stop();
});

test('an inbound lead reaches its SDR on the cluster, and visibility finds its journey by owner', async () => {
  expect(cluster.shards).toBe(4);
  const lead = fittingLead();
  const added = await addLead(env.client, store, taskQueue, exampleConfig(), lead);
  expect(added).toMatchObject({ started: true });

  const notice = await sink.waitFor(sdrNoticeAbout(lead), 60_000);
  const shown = await showLead(env.client, { id: added.leadId });
  expect(shown.status).toBe('RUNNING');
  const owner = shown.owner!.email;
  expect(sdrs).toContain(owner);
  expect(notice.to).toEqual([owner]);

  // SQL visibility on PostgreSQL, through the search attributes the harness registered: the record
  // follows the journey by a moment, so it is asked until it is there.
  let listed: ListedJourney[] = [];
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    listed = [];
    for await (const journey of listJourneys(env.client, { owner, stage: 'working' }, 100)) listed.push(journey);
    if (listed.some((j) => j.leadId === added.leadId)) break;
  }
  expect(listed.find((j) => j.leadId === added.leadId)).toMatchObject({ status: 'RUNNING', stage: 'working', owner, source: 'inbound' });
});
