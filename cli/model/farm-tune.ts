// `model tune --coordinator ADDR`: the model's layers as campaigns on a farm, one after another
// (each campaign keeps every agent of the target busy). Resuming reads the coordinator's own
// campaigns: a layer's measurements in earlier campaigns count against its share, a campaign
// still running is watched to its end, and only what is left is submitted.
import { planBudget } from '../../coordinator/model-import/budget.ts';
import type { ModelLayer, ModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { defineFromKey } from '../../tensor/ops/registry.ts';
import type * as pb from '../../proto/flexfarm/v1/coordinator.ts';
import { campaignProgressWriter } from '../campaign-progress.ts';
import type { CoordinatorClient } from '../coordinator-client.ts';

export interface FarmTuneOptions {
  model: ModelLayers;
  client: CoordinatorClient;
  target: string;
  trials: number;
  minTrials: number;
  /** Empty: the coordinator's default for campaigns. */
  explorer: string;
  seed: number;
  remeasure: number;
  json: boolean;
  say: (line: string) => void;
}

export interface FarmLayerResult {
  layer: ModelLayer;
  planned: number;
  /** Measurements on the target over all of this layer's campaigns. */
  measured: number;
  campaigns: string[];
  best: { seconds: number; gflops: number; config: unknown } | null;
  status: 'tuned' | 'done-before' | 'failed';
  message?: string;
}

const progressOf = (c: pb.Campaign, target: string) => c.targets.find((t) => t.target === target);

export async function tuneModelOnFarm(o: FarmTuneOptions): Promise<FarmLayerResult[]> {
  const plan = planBudget(o.model.layers.map((l) => l.share), o.trials, o.minTrials);
  const { campaigns } = await o.client.call<pb.ListCampaignsRequest, pb.ListCampaignsResponse>('listCampaigns', {});
  const results: FarmLayerResult[] = [];
  let overall = 0;
  for (const [index, layer] of o.model.layers.entries()) {
    const head = `[layer ${index + 1}/${o.model.layers.length}] ${layer.workload} x${layer.count}, ${(100 * layer.share).toFixed(1)}% of FLOPs`;
    const earlier = campaigns.filter((c) => c.workload === layer.workload && progressOf(c, o.target));
    const ended: pb.Campaign[] = [];
    for (const c of earlier) ended.push(c.state === 'running' ? await follow(o, c.id, `${head}: campaign ${c.id} still running`) : c);
    const before = ended.reduce((s, c) => s + (progressOf(c, o.target)?.measured ?? 0), 0);
    const remaining = plan[index] - before;
    let status: FarmLayerResult['status'] = 'done-before';
    let message: string | undefined;
    if (remaining > 0) {
      const def = defineFromKey(layer.workload);
      const { id } = await o.client.call<pb.SubmitCampaignRequest, pb.SubmitCampaignResponse>('submitCampaign', {
        op: def.op, shape: def.params, targets: [o.target], trials: remaining, explorer: o.explorer,
        seed: o.seed + index, remeasure: o.remeasure,
      });
      const last = await follow(o, id, `${head}: campaign ${id}, ${remaining} measurements${before ? ` (${before} in earlier campaigns)` : ''}`);
      ended.push(last);
      status = last.state === 'done' ? 'tuned' : 'failed';
      if (last.state !== 'done') message = `campaign ${id} ${last.state}${last.message ? `: ${last.message}` : ''}`;
    }
    const measured = ended.reduce((s, c) => s + (progressOf(c, o.target)?.measured ?? 0), 0);
    const bests = ended.map((c) => progressOf(c, o.target)?.best).filter((b): b is pb.Best => !!b);
    const best = bests.sort((a, b) => a.seconds - b.seconds)[0];
    overall += Math.min(measured, plan[index]);
    o.say(`${status === 'done-before' ? `${head}: done before (${measured} of ${plan[index]} in earlier campaigns)` : `   ${status === 'failed' ? `FAILED: ${message}` : `best ${best ? `${best.seconds.toExponential(3)} s` : '-'}`}`}; overall ${overall}/${o.trials}`);
    results.push({
      layer, planned: plan[index], measured, campaigns: ended.map((c) => c.id), status, ...(message ? { message } : {}),
      best: best ? { seconds: best.seconds, gflops: best.gflops, config: JSON.parse(best.configJson) } : null,
    });
  }
  return results;
}

/** Watches a campaign to its end, with the campaign progress line on stderr. */
async function follow(o: FarmTuneOptions, id: string, line: string): Promise<pb.Campaign> {
  o.say(line);
  let last: pb.Campaign | undefined;
  const progress = campaignProgressWriter(process.stderr, { forcePlain: o.json });
  try {
    await o.client.watch(id, (event) => {
      if (!event.campaign) return;
      last = event.campaign;
      progress.update(last);
    });
  } finally {
    progress.finish();
  }
  if (!last || last.state === 'running') throw new Error(`the coordinator stopped the watch of campaign ${id} before it ended`);
  return last;
}
