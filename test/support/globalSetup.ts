import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LINK_SECRETS_ENV, newLinkSecret } from '../../activities/signedLinks';
import { ensureServer } from '../../client/servers';
import { ensureClusterServers } from '../../client/clusterServers';
import { ensurePostgresBinaries } from './postgres';

export default async function globalSetup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  // Unsubscribe links are signed: the test files and the CLI processes they start share this key.
  process.env[LINK_SECRETS_ENV] ??= newLinkSecret('test');
  // Type-checks everything and builds dist/, which the CLI and end-to-end tests run as users do.
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { stdio: 'inherit' });
  const log = (line: string) => process.stderr.write(`[servers] ${line}\n`);
  await ensureServer('dev-server', log);
  await ensureServer('test-server', log);
  // The local cluster's temporal-server and schema tool (test/cluster.test.ts): a Go build of about
  // 4 minutes on 2 cores the first time, so here, once, with progress, rather than in a test's timeout.
  // Without Go the other suites still run: the cluster test fails alone, with this same message.
  await ensureClusterServers(log).catch((err: Error) => log(`local cluster unavailable, test/cluster.test.ts will fail: ${err.message}`));
  // The store's tests run on a real PostgreSQL too, which each test file starts from these binaries.
  await ensurePostgresBinaries((line) => process.stderr.write(`[postgres] ${line}\n`));
}
