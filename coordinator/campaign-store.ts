// The campaigns' state file: JSON next to the tuning log, rewritten atomically (temporary file,
// fsync, rename), so a crash leaves either the old or the new state, never a torn one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FlexfarmError } from '../contracts/errors.ts';
import type { PersistedCampaign } from './campaign.ts';

export const STATE_FORMAT_VERSION = 1;

export class CampaignStateError extends FlexfarmError {
  override name = 'CampaignStateError';
  readonly code = 'CAMPAIGN_STATE';
}

/** `out/farm.jsonl` → `out/farm.campaigns.json`. */
export function statePathFor(recordsPath: string): string {
  return join(dirname(recordsPath), `${basename(recordsPath).replace(/\.jsonl?$/, '')}.campaigns.json`);
}

export class CampaignStore {
  constructor(readonly path: string) {}

  load(): PersistedCampaign[] {
    if (!existsSync(this.path)) return [];
    let data: { v?: number; campaigns?: PersistedCampaign[] };
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8')) as typeof data;
    } catch (err) {
      throw new CampaignStateError(`${this.path}: campaign state is not readable JSON (${(err as Error).message}); move it aside to start afresh`);
    }
    if (typeof data.v !== 'number' || data.v > STATE_FORMAT_VERSION) {
      throw new CampaignStateError(`${this.path}: campaign state format v${data.v} is not one this flexfarm reads (v${STATE_FORMAT_VERSION})`);
    }
    return data.campaigns ?? [];
  }

  save(campaigns: PersistedCampaign[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify({ v: STATE_FORMAT_VERSION, campaigns }, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
