import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding Pipewright's package.json, whether running from source or from dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find Pipewright's package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The config a command uses when given none: PIPEWRIGHT_CONFIG, else the embedded example. */
export function defaultConfigFile(): string {
  return process.env.PIPEWRIGHT_CONFIG || join(packageRoot(), 'config', 'examples', 'default.yaml');
}
