// Campaigns rebuilt after a coordinator restart: each persisted state with its results from the
// tuning log. One that cannot be rebuilt (e.g. an operator this version lacks) is kept as it is.
import type { MeasureResult } from '../../contracts/result.ts';
import { Campaign, type PersistedCampaign } from '../campaign.ts';
import { validateSpec } from '../campaign-spec.ts';
import type { RemeasureRecord } from '../records.ts';

export interface RestoredCampaigns {
  campaigns: Campaign[];
  /** Written back to the state file unchanged. */
  unreadable: PersistedCampaign[];
}

/** `records`: the log's measurements and re-measurements. */
export function restoreCampaigns(persisted: readonly PersistedCampaign[], records: readonly (MeasureResult | RemeasureRecord)[], log: (line: string) => void): RestoredCampaigns {
  const history = new Map<string, (MeasureResult | RemeasureRecord)[]>();
  for (const r of records) {
    if (!r.campaign) continue;
    let list = history.get(r.campaign);
    if (!list) history.set(r.campaign, (list = []));
    list.push(r);
  }
  const restored: RestoredCampaigns = { campaigns: [], unreadable: [] };
  for (const p of persisted) {
    try {
      const { def } = validateSpec(p.spec);
      restored.campaigns.push(new Campaign(p.id, p.spec, def, p, history.get(p.id) ?? []));
    } catch (err) {
      log(`campaign ${p.id} cannot be resumed and is kept as it is in the state file: ${(err as Error).message}`);
      restored.unreadable.push(p);
    }
  }
  return restored;
}
