// `npm run bench -- --cpu-profile FILE`: where the bench process's main thread spends its time
// (activities, the store, the client, the SMTP sink), as a .cpuprofile for Chrome's DevTools and
// a summary by package. Workflow code runs on the worker's own thread; `node --cpu-prof` profiles
// that one.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export async function startProfile(): Promise<() => Promise<Profile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    return profile;
  };
}

/** "pglite", "@temporalio/client", "activities", "(garbage collector)": who a sampled frame belongs to. */
function ownerOf(frame: ProfileNode['callFrame']): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame.url);
  if (pkg) return pkg[1]!;
  const ours = /\/dist\/([^/]+)\//.exec(frame.url);
  if (ours) return ours[1]!;
  if (frame.url.startsWith('node:')) return 'node';
  if (frame.url.startsWith('wasm://')) return 'wasm';
  return frame.functionName || frame.url || '(other)';
}

/** Writes the profile and returns the busiest owners' shares of the sampled time. */
export function saveProfile(profile: Profile, file: string, top = 12): string[] {
  writeFileSync(file, JSON.stringify(profile));
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const t = byNode.get(node.id) ?? 0;
    total += t;
    const owner = ownerOf(node.callFrame);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + t);
  }
  return [...byOwner]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([owner, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${owner}`);
}
