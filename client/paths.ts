import { join } from 'node:path';
import { packageRoot } from '../store/packageRoot';

export { packageRoot };

/** The config a command uses when given none: PIPEWRIGHT_CONFIG, else the embedded example. */
export function defaultConfigFile(): string {
  return process.env.PIPEWRIGHT_CONFIG || join(packageRoot(), 'config', 'examples', 'default.yaml');
}
