// `flexfarm campaign submit|get|list|cancel|watch`: campaigns on a coordinator.
import { explorerNames } from '../../coordinator/explore/index.ts';
import type * as pb from '../../proto/flexfarm/v1/coordinator.ts';
import { parseFlags, parseInteger, parseShape, UsageError } from '../args.ts';
import { campaignProgressWriter } from '../campaign-progress.ts';
import { CoordinatorClient, coordinatorClientFor } from '../coordinator-client.ts';
import { CLIENT_SECURITY_FLAGS, SECRET_FLAG_NOTES, securityUsage } from '../security-flags.ts';
import { yardstickParts } from '../yardstick-text.ts';

const USAGE = `usage:
  flexfarm campaign submit <op> --shape K=V[,K=V...] --targets cpu,sim --trials N [--explorer NAME] [--seed N]
                           [--repeat N] [--min-repeat-ms N] [--remeasure K] [--coordinator ADDR] [--json]
  flexfarm campaign get ID [--coordinator ADDR] [--json]
  flexfarm campaign list [--coordinator ADDR] [--json]
  flexfarm campaign cancel ID [--coordinator ADDR] [--json]
  flexfarm campaign watch ID [--coordinator ADDR] [--json]

--coordinator defaults to FLEXFARM_COORDINATOR, else 127.0.0.1:7000 (HOST:PORT, the coordinator's gRPC
--listen address). --trials is the budget per target.
A coordinator with TLS and a token (README "Security") takes the same credentials:
${securityUsage('client').join('\n')}
--explorer: ${explorerNames().join(', ')} (default random). Not model, tune's default, which
finds better kernels from fewer measurements: it proposes 4-8 candidates a round when nothing is
in flight, and as many as the farm has room for while results are outstanding (it no longer waits
for them), but those picks are made without the results still in flight, so on a wide farm (a cpu
agent takes 4, a sim agent 16) it learns less per measurement; random keeps every agent busy at no
cost. With one or two agents, --explorer model is the better choice.
--remeasure K: after each target's search, its best K configs are measured again on the device that
measured them, each in a fresh process, 3 rounds, and the best is chosen by the re-measured median
(default 5; 0: off; not counted in --trials).
submit --json prints {"id"}; get, cancel and watch --json print the campaign as one JSON object
(watch: when it ends); list --json prints an array.
A target is running, waiting (no agent of its device class is up: the campaign's message names the
agents lost and what is queued; it runs again as soon as one is up), or done.`;

/** The campaign as the commands print it in JSON. */
export interface CampaignJson {
  id: string;
  state: string;
  op: string;
  workload: string;
  explorer: string;
  seed: number;
  createdAt: string;
  finishedAt: string | null;
  message: string | null;
  targets: {
    target: string; budget: number; measured: number; valid: number; queued: number; inFlight: number;
    /** running, waiting (no agent of its kind up; `message` says why), done, or the campaign's end state. */
    state: string;
    message: string | null;
    stopReason: string | null;
    remeasure: { done: number; total: number } | null;
    best: {
      config: unknown; seconds: number; gflops: number; candidateId: string; agent: string;
      remeasured: { searchSeconds: number; runs: number } | null;
    } | null;
    simulated: boolean;
    /** The best against its device's reference, library and FP32 peak; null before a best. */
    yardstick: {
      device: string; referenceSeconds: number | null; library: { name: string; seconds: number } | null; libraryMissing: string | null;
      peak: { gflops: number; source: string } | null; speedup: number | null; ofLibrary: number | null; ofPeak: number | null;
    } | null;
  }[];
}

export function campaignJson(c: pb.Campaign): CampaignJson {
  return {
    id: c.id, state: c.state, op: c.op, workload: c.workload, explorer: c.explorer, seed: c.seed,
    createdAt: c.createdAt, finishedAt: c.finishedAt || null, message: c.message || null,
    targets: c.targets.map((t) => ({
      target: t.target, budget: t.budget, measured: t.measured, valid: t.valid, queued: t.queued, inFlight: t.inFlight,
      state: t.state, message: t.message || null, stopReason: t.stopReason || null,
      remeasure: t.remeasureTotal ? { done: t.remeasureDone, total: t.remeasureTotal } : null,
      best: t.best ? {
        config: JSON.parse(t.best.configJson), seconds: t.best.seconds, gflops: t.best.gflops, candidateId: t.best.candidateId, agent: t.best.agent,
        remeasured: t.best.remeasured ? { searchSeconds: t.best.searchSeconds, runs: t.best.remeasureRuns } : null,
      } : null,
      simulated: t.simulated,
      yardstick: t.yardstick ? yardstickJson(t.yardstick) : null,
    })),
  };
}

function yardstickJson(y: pb.Yardstick): NonNullable<CampaignJson['targets'][number]['yardstick']> {
  const known = (x: number) => (x > 0 ? x : null);
  return {
    device: y.device, referenceSeconds: known(y.referenceSeconds),
    library: y.libraryName && y.librarySeconds > 0 ? { name: y.libraryName, seconds: y.librarySeconds } : null, libraryMissing: y.libraryMissing || null,
    peak: y.peakGflops > 0 ? { gflops: y.peakGflops, source: y.peakSource } : null,
    speedup: known(y.speedup), ofLibrary: known(y.ofLibrary), ofPeak: known(y.ofPeak),
  };
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') { process.stdout.write(`${USAGE}\n`); return sub ? 0 : 2; }
  const { values, positionals } = parseFlags(rest, {
    coordinator: { type: 'string' }, json: { type: 'boolean' }, shape: { type: 'string' }, targets: { type: 'string' },
    trials: { type: 'string' }, explorer: { type: 'string' }, seed: { type: 'string' }, repeat: { type: 'string' },
    'min-repeat-ms': { type: 'string' }, remeasure: { type: 'string' }, ...CLIENT_SECURITY_FLAGS, help: { type: 'boolean' },
  }, true, { ...SECRET_FLAG_NOTES, target: "a campaign takes --targets, a comma-separated list of device classes such as cpu,sim; tune's --target names one" });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const client = coordinatorClientFor(values);
  try {
    switch (sub) {
      case 'submit': return await submit(client, positionals, values);
      case 'get': return await get(client, onlyId(positionals, sub), !!values.json);
      case 'list': return await list(client, !!values.json);
      case 'cancel': return await cancel(client, onlyId(positionals, sub), !!values.json);
      case 'watch': return await watch(client, onlyId(positionals, sub), !!values.json);
      default: throw new UsageError(`unknown campaign command '${sub}' (submit, get, list, cancel, watch)`);
    }
  } finally {
    client.close();
  }
}

function onlyId(positionals: string[], sub: string): string {
  if (positionals.length !== 1) throw new UsageError(`campaign ${sub} takes one campaign id, got ${positionals.length}`);
  return positionals[0];
}

async function submit(client: CoordinatorClient, positionals: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('campaign submit takes one operator name, e.g. `campaign submit gemm --shape M=64,N=64,K=64`');
  const targets = String(values.targets ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (!targets.length) throw new UsageError('--targets is required, e.g. --targets cpu,sim');
  if (values.trials === undefined) throw new UsageError('--trials N is required (measurements per target)');
  const request: pb.SubmitCampaignRequest = {
    op: positionals[0], shape: parseShape(values.shape as string | undefined), targets,
    trials: parseInteger('--trials', values.trials as string, 0, 1), explorer: (values.explorer as string | undefined) ?? '',
    ...(values.seed !== undefined ? { seed: parseInteger('--seed', values.seed as string, 0, 0) } : {}),
    ...(values.remeasure !== undefined ? { remeasure: parseInteger('--remeasure', values.remeasure as string, 0, 0) } : {}),
    protocol: {
      repeat: parseInteger('--repeat', values.repeat as string | undefined, 0, 1),
      minRepeatMs: parseInteger('--min-repeat-ms', values['min-repeat-ms'] as string | undefined, 0, 0),
      buildTimeoutMs: 0, runTimeoutMs: 0,
    },
  };
  const { id } = await client.call<pb.SubmitCampaignRequest, pb.SubmitCampaignResponse>('submitCampaign', request);
  process.stdout.write(values.json ? `${JSON.stringify({ id })}\n` : `campaign ${id} submitted; follow it with: flexfarm campaign watch ${id}\n`);
  return 0;
}

async function get(client: CoordinatorClient, id: string, json: boolean): Promise<number> {
  const c = await client.call<pb.GetCampaignRequest, pb.Campaign>('getCampaign', { id });
  process.stdout.write(json ? `${JSON.stringify(campaignJson(c))}\n` : `${describe(c)}\n`);
  return 0;
}

async function list(client: CoordinatorClient, json: boolean): Promise<number> {
  const { campaigns } = await client.call<pb.ListCampaignsRequest, pb.ListCampaignsResponse>('listCampaigns', {});
  if (json) process.stdout.write(`${JSON.stringify(campaigns.map(campaignJson))}\n`);
  else if (!campaigns.length) process.stdout.write('no campaigns\n');
  else for (const c of campaigns) process.stdout.write(`${describe(c)}\n`);
  return 0;
}

async function cancel(client: CoordinatorClient, id: string, json: boolean): Promise<number> {
  const c = await client.call<pb.CancelCampaignRequest, pb.Campaign>('cancelCampaign', { id });
  process.stdout.write(json ? `${JSON.stringify(campaignJson(c))}\n` : `${describe(c)}\n`);
  return 0;
}

/** Progress until the campaign ends (a bar on a terminal, else plain lines); exit 0 when it is done. */
async function watch(client: CoordinatorClient, id: string, json: boolean): Promise<number> {
  let last: pb.Campaign | undefined;
  const progress = campaignProgressWriter(json ? process.stderr : process.stdout, { forcePlain: json });
  try {
    await client.watch(id, (event) => {
      if (!event.campaign) return;
      last = event.campaign;
      progress.update(last);
    });
  } finally {
    progress.finish();
  }
  if (!last) throw new Error(`the coordinator ended the watch of ${id} without a single event`);
  if (last.state === 'running') throw new Error(`the coordinator stopped the watch of ${id} while it was still running`);
  process.stdout.write(json ? `${JSON.stringify(campaignJson(last))}\n` : `${describe(last)}\n`);
  return last.state === 'done' ? 0 : 1;
}

function describe(c: pb.Campaign): string {
  const lines = [`${c.id}  ${c.state}  ${c.workload}  explorer ${c.explorer} seed ${c.seed}  created ${c.createdAt}${c.finishedAt ? `  ended ${c.finishedAt}` : ''}`];
  for (const t of c.targets) {
    const again = t.best?.remeasured ? ` (re-measured, median of ${t.best.remeasureRuns}; search ${t.best.searchSeconds.toExponential(3)} s)` : '';
    const best = t.best ? `best ${t.best.seconds.toExponential(3)} s${again}  ${t.best.gflops.toFixed(2)} GFLOP/s  on ${t.best.agent || '?'}  ${t.best.configJson}` : 'no valid measurement yet';
    const remeasuring = t.remeasureTotal ? `, re-measured ${t.remeasureDone}/${t.remeasureTotal}` : '';
    lines.push(`  ${t.target.padEnd(5)} ${t.state.padEnd(7)} ${t.measured}/${t.budget} measured, ${t.valid} valid${remeasuring}, ${t.queued} queued, ${t.inFlight} in flight; ${best}`);
    const y = t.yardstick ? yardstickJson(t.yardstick) : null;
    const against = y && t.best ? yardstickParts({
      speedup: y.speedup, ofLibrary: y.ofLibrary, ofPeak: y.ofPeak, peak: y.peak, libraryMissing: y.libraryMissing ?? undefined,
      library: y.library ? { name: y.library.name, gflops: (t.best.gflops * t.best.seconds) / y.library.seconds } : null,
    }) : [];
    if (against.length) lines.push(`        ${t.simulated ? '[simulated] ' : ''}${against.join('; ')}`);
  }
  if (c.message) lines.push(`  ${c.message}`);
  return lines.join('\n');
}
