// Whether a result read from the bus may be applied: it names a running campaign of this
// coordinator, its candidate was issued and sent to the agent that published it (the agent of its
// subject, which nats-server's permissions make the publisher's own; else the one its envelope
// names, on the old subject without an agent), with the workload
// and config that were dispatched, and its time is one a device can take. The message's own shape
// is checked before (contracts/messages/); this is what only the coordinator can know.
import type { ResultDelivery } from '../../contracts/bus.ts';
import { quote } from '../../contracts/messages/limits.ts';
import type { DropReason } from '../../contracts/messages/message-error.ts';
import type { MeasureResult } from '../../contracts/result.ts';
import type { Campaign } from '../campaign.ts';
import { configKey } from '../keys.ts';
import type { Dispatched } from './dispatcher.ts';

/** Faster than this for one run of a kernel is no measurement. */
export const MIN_PLAUSIBLE_SECONDS = 1e-10;
/** FP32 rate no single device reaches (1 PFLOP/s): a result implying more is no measurement. */
export const MAX_PLAUSIBLE_GFLOPS = 1e6;

export type Admission =
  | { verdict: 'apply'; campaign: Campaign }
  | { verdict: 'duplicate'; campaign: Campaign }
  | { verdict: 'drop'; reason: DropReason; detail: string };

export interface AdmissionContext {
  campaign(id: string): Campaign | undefined;
  dispatched(candidateId: string): Dispatched | undefined;
}

export function admitResult(d: ResultDelivery, ctx: AdmissionContext): Admission {
  const r = d.result;
  const id = quote(r.candidateId);
  const from = d.agentFromSubject ? `${quote(d.agent)} (the agent of its subject)` : quote(d.agent);
  const drop = (reason: DropReason, detail: string): Admission => ({ verdict: 'drop', reason, detail: `result ${id} from ${from}: ${detail}` });
  if (!r.campaign) return drop('no_campaign', 'names no campaign (only campaigns\' results are applied)');
  const campaign = ctx.campaign(r.campaign);
  if (!campaign) return drop('unknown_campaign', `campaign ${quote(r.campaign)} is not one of this coordinator's`);
  if (!campaign.owns(r)) return drop('wrong_target', `its id is not one campaign ${campaign.id} issues for target '${r.target}'`);
  if (campaign.isApplied(r.candidateId)) return { verdict: 'duplicate', campaign };
  if (!campaign.running) return drop('campaign_ended', `campaign ${campaign.id} has ended (${campaign.state})`);
  const implausible = implausibleTime(campaign, r);
  if (implausible) return drop('implausible_time', implausible);
  const dispatched = ctx.dispatched(r.candidateId);
  if (dispatched) {
    if (!dispatched.agents.has(d.agent)) {
      const to = [...dispatched.agents];
      return drop('wrong_agent', to.length ? `it was sent to ${to.map((a) => quote(a)).join(', ')}, not to this agent` : 'it has not been sent to any agent yet');
    }
    if (dispatched.candidate) {
      if (r.workload !== dispatched.candidate.workload) return drop('wrong_workload', `workload ${quote(r.workload)} is not the one dispatched (${quote(dispatched.candidate.workload)})`);
      if (configKey(r.config) !== configKey(dispatched.candidate.config)) return drop('wrong_config', 'its config is not the one dispatched');
    } else if (!fitsCampaign(campaign, r)) {
      return drop('wrong_config', 'its workload or config is not of this campaign');
    }
  } else if (!campaign.issuedBeforeRestart(r.candidateId)) {
    return drop('not_issued', 'no such candidate is in flight');
  } else if (!fitsCampaign(campaign, r)) {
    // Issued before a restart: the config is not known here, so it must at least be of the space.
    return drop('wrong_config', 'its workload or config is not of this campaign');
  }
  return { verdict: 'apply', campaign };
}

/** Workload of the campaign, and a config of its target's space (an INSTANTIATION error's config
 *  may lie outside the device's limits). */
function fitsCampaign(campaign: Campaign, r: MeasureResult): boolean {
  if (r.workload !== campaign.def.key) return false;
  return r.error?.code === 'INSTANTIATION' || campaign.acceptsConfig(r.target, r.config);
}

function implausibleTime(campaign: Campaign, r: MeasureResult): string | null {
  if (r.error || r.median === null) return null;
  if (r.median < MIN_PLAUSIBLE_SECONDS) return `a median of ${r.median} s is below ${MIN_PLAUSIBLE_SECONDS} s`;
  const gflops = campaign.def.flops / r.median / 1e9;
  if (gflops > MAX_PLAUSIBLE_GFLOPS) return `a median of ${r.median} s means ${gflops.toExponential(2)} GFLOP/s (above ${MAX_PLAUSIBLE_GFLOPS})`;
  return null;
}
