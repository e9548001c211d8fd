// Cleans up after this process if it dies without doing so itself (SIGKILL, a crash, a test run cut
// short): servers it started that do not stop with it, like a daemonized PostgreSQL or a Go server
// in its own process group, and their temp folders. A tiny detached Node process does it, checking
// every second whether its parent is still there, as `pipewright store serve --stop-with-parent` does.
import { spawn } from 'node:child_process';

export interface Cleanup {
  /** Process groups to SIGKILL (each process was spawned detached, so its pid is its group's id). */
  killGroups?: number[];
  /** Commands to run, in order, e.g. `pg_ctl stop`; each gets 30 s. */
  commands?: string[][];
  /** Folders to delete last. */
  remove?: string[];
}

export interface Watchdog {
  /** The parent is cleaning up itself: stop watching. */
  release(): void;
}

const SCRIPT = `
const { execFileSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const parent = Number(process.argv[1]);
const cleanup = JSON.parse(process.argv[2]);
setInterval(() => {
  if (process.ppid === parent) return;
  for (const pid of cleanup.killGroups || []) { try { process.kill(-pid, 'SIGKILL'); } catch {} }
  for (const [command, ...args] of cleanup.commands || []) { try { execFileSync(command, args, { stdio: 'ignore', timeout: 30000 }); } catch {} }
  for (const dir of cleanup.remove || []) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
}, 1000);
`;

export function watchParent(cleanup: Cleanup): Watchdog {
  // Detached: a Ctrl-C in the terminal must not reach it, and it must not keep this process alive.
  const child = spawn(process.execPath, ['-e', SCRIPT, String(process.pid), JSON.stringify(cleanup)], { detached: true, stdio: 'ignore' });
  child.unref();
  return {
    release() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
