// Stopping a child process as a service manager would: SIGTERM, so it finishes what it holds, then
// SIGKILL if it has not exited within its grace time.
import type { ChildProcess } from 'node:child_process';

export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(kill);
}
