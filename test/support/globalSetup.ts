import { ensureServer } from '../../client/servers';

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[servers] ${line}\n`);
  await ensureServer('dev-server', log);
  await ensureServer('test-server', log);
}
