// Files that ship beside the code but are not compiled (SQL migrations, the PGlite worker script)
// are found from the package root, so the same path works from store/ and from dist/store/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json in ${from} or above it`);
  }
}
