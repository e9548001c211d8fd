import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LINK_SECRETS_ENV, newLinkSecret } from '../../activities/signedLinks';
import { ensureServer } from '../../client/servers';
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
  // The store's tests run on a real PostgreSQL too, which each test file starts from these binaries.
  await ensurePostgresBinaries((line) => process.stderr.write(`[postgres] ${line}\n`));
}
