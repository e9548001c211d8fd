// `pipewright dev --cluster`, run as a user runs it: it prints the cluster it started, a lead sent to
// its intake reaches the SDR and is found through the cluster's SQL visibility, and Ctrl-C leaves no
// server, PostgreSQL or folder behind.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { acceptsConnections, freePort } from '../client/freePort';
import { pipewright, startPipewright } from './support/cli';
import { exampleConfigFile, fittingLead } from './support/fixtures';

jest.setTimeout(180_000);

const dataDir = mkdtempSync(join(tmpdir(), 'pipewright-dev-cluster-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Processes whose command line names `text` (the cluster's server is started with its folder). */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('pipewright dev --cluster runs a journey on the local cluster and leaves nothing behind on Ctrl-C', async () => {
  const [smtpPort, intakePort, storePort] = [await freePort(), await freePort(), await freePort()];
  const dev = await startPipewright(
    ['dev', '--cluster', '--data', dataDir, '--smtp-port', String(smtpPort), '--intake-port', String(intakePort), '--store-port', String(storePort), '--config', exampleConfigFile],
    {},
    /Ctrl-C stops everything/,
  );
  const address = /Temporal cluster {6}(\S+) \(namespace default, temporal-server v1\.29\.1, 4 history shards/.exec(dev.output())?.[1];
  const clusterDir = /config and server log in (\S+);/.exec(dev.output())?.[1];
  const postgresPort = Number(/Cluster PostgreSQL {4}postgres:\/\/postgres@127\.0\.0\.1:(\d+)\//.exec(dev.output())?.[1]);
  expect(await acceptsConnections(postgresPort)).toBe(true);
  expect(address).toBeDefined();
  expect(clusterDir && existsSync(clusterDir)).toBe(true);
  expect(processesNaming(clusterDir!).length).toBeGreaterThan(0);

  const lead = fittingLead();
  const apiKey = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
  const added = await fetch(`http://127.0.0.1:${intakePort}/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(lead),
  });
  expect(added.status).toBe(201);
  await until('the SDR notice', () => /mail: to \S+: "New inbound lead: Dana Whitfield/.test(dev.output()), 60_000);
  // Another terminal, pointed at the cluster as dev says: the journey is there by its search attributes.
  await until(
    'the journey in lead list',
    async () => (await pipewright(['lead', 'list', '--stage', 'working'], { env: { TEMPORAL_ADDRESS: address } })).stdout.includes(`lead-${lead.email}`),
    30_000,
  );

  expect(await interrupt(dev.child)).toBe(0);
  expect(dev.output()).toContain('stopping: intake, mail sink, store, Temporal cluster and its PostgreSQL');
  expect(existsSync(clusterDir!)).toBe(false);
  expect(processesNaming(clusterDir!)).toEqual([]);
  expect(await acceptsConnections(postgresPort)).toBe(false);
});
