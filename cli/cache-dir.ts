// Where compiled kernels and reference outputs are cached (FLEXFARM_CACHE, else ~/.cache/flexfarm).
import os from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  return process.env.FLEXFARM_CACHE || join(process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache'), 'flexfarm');
}
