// The operations guide's TLS path, run: the local cluster's frontend speaks mutual TLS (a private
// CA, client certificates required), and Pipewright's processes reach it through Temporal's own
// environment settings (TEMPORAL_TLS_*), with nothing in Pipewright's code or config about TLS.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../client/cluster';
import { withClient } from '../client/localPostgres';
import { startMailSink, type MailSink } from '../client/mailSink';
import { makeCertificates } from './support/certificates';
import { pipewright, startPipewright, stop } from './support/cli';
import { exampleConfigFile, fittingLead, sdrNoticeAbout } from './support/fixtures';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'pipewright-tls-'));
let cluster: LocalCluster;
let sink: MailSink;
let worker: ChildProcess | undefined;
let plain: NodeJS.ProcessEnv;
let withTls: NodeJS.ProcessEnv;

beforeAll(async () => {
  const tls = await makeCertificates(dir);
  [cluster, sink] = await Promise.all([startLocalCluster({ tls, log: (line) => process.stderr.write(`[clusterTls] ${line}\n`) }), startMailSink()]);
  await withClient(cluster.postgresUrl, (client) => client.query('create database pipewright'));
  const store = new URL(cluster.postgresUrl);
  store.pathname = '/pipewright';
  plain = {
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    PIPEWRIGHT_DATABASE_URL: store.toString(),
    PIPEWRIGHT_SMTP_URL: sink.url,
    PIPEWRIGHT_CONFIG: exampleConfigFile,
    PIPEWRIGHT_TASK_QUEUE: 'tls',
  };
  withTls = {
    ...plain,
    TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCertFile,
    TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKeyFile,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caFile,
    TEMPORAL_TLS_SERVER_NAME: tls.serverName,
  };
});

afterAll(async () => {
  if (worker) await stop(worker);
  await sink?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('without a client certificate Pipewright cannot reach the cluster, and says so', async () => {
  const refused = await pipewright(['setup'], { env: plain });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`cannot reach Temporal at ${cluster.address}`);
  // TLS with the server's CA but no certificate of its own: the server requires one.
  const noCertificate = await pipewright(['setup'], { env: { ...plain, TEMPORAL_TLS_SERVER_CA_CERT_PATH: withTls.TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME: withTls.TEMPORAL_TLS_SERVER_NAME } });
  expect(noCertificate.code).toBe(1);
  expect(noCertificate.stderr).toContain(`cannot reach Temporal at ${cluster.address}`);
});

test('with TEMPORAL_TLS_* set, setup, the worker and the CLI run a journey over mutual TLS', async () => {
  const setup = await pipewright(['setup'], { env: withTls });
  expect(setup).toMatchObject({ code: 0, stdout: expect.stringContaining("already has Pipewright's search attributes") });

  worker = (await startPipewright(['worker'], withTls, /worker: polling task queue "tls"/)).child;
  const lead = fittingLead();
  const file = join(dir, 'lead.json');
  writeFileSync(file, JSON.stringify(lead));
  const added = await pipewright(['lead', 'add', file], { env: withTls });
  expect(added).toMatchObject({ code: 0, stdout: `lead-${lead.email}\n` });
  const notice = await sink.waitFor(sdrNoticeAbout(lead), 60_000);
  expect(notice.to).toHaveLength(1);

  const listed = await pipewright(['lead', 'list', '--stage', 'working'], { env: withTls });
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(`lead-${lead.email}`);
});
