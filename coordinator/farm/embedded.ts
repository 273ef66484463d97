// Embedded mode: the farm's own parts — campaign, dispatcher, agent queue, bus consumer, tuning
// log — in one process over the in-process bus, with one local agent around the caller's backend.
// `flexfarm tune` runs its search through this, so the local path is the remote path. The agent
// comes from the caller's factory (cli/ passes agent/'s), so the coordinator never imports agent/.
import type { Backend } from '../../contracts/backend.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import type { LocalAgentFactory } from '../../contracts/local-agent.ts';
import type { MeasureResult, TimingProtocol } from '../../contracts/result.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import type { Config } from '../../tensor/templates/template.ts';
import type { PriorMeasurement } from '../explore/batch-explorer.ts';
import type { CampaignState } from '../campaign.ts';
import { Farm } from './farm.ts';

export interface EmbeddedRunOptions {
  def: ComputeDef;
  backend: Backend;
  /** Creates the one local agent around `backend`. */
  createAgent: LocalAgentFactory;
  trials: number;
  explorer: string;
  seed: number;
  protocol: TimingProtocol;
  /** Results are appended here, as by a coordinator. */
  recordsPath: string;
  /** Candidates measured at once by the local agent (compiles overlap, timing stays exclusive). */
  concurrency: number;
  /** Earlier results for this workload and target: they seed the explorer (resume). */
  history?: readonly MeasureResult[];
  /** Configs measured before the explorer starts, logged with `seedLabel` as their explorer. */
  seeds?: Config[];
  seedLabel?: string;
  /** Other workloads' measurements for a learned explorer to train on (transfer-prior.ts). */
  prior?: readonly PriorMeasurement[];
  /** Top configs re-measured after the search (0: none), and rounds (campaign-spec.ts defaults). */
  remeasure?: number;
  remeasureRounds?: number;
  /** Each result, in the order it is applied; `remeasure` for the re-measurements after the search,
   *  with how many of them are done of the plan's total. */
  onResult?: (result: MeasureResult, info: { remeasure: boolean; remeasured?: { done: number; total: number } }) => void;
  warn?: (message: string) => void;
}

export interface EmbeddedRunResult {
  state: CampaignState;
  /** This run's search results, in the order applied. */
  results: MeasureResult[];
  /** Its re-measurements, in the order applied. */
  remeasured: MeasureResult[];
  /** Why the search ended before the budget, if it did. */
  stopReason?: string;
  /** Why the agent's yardstick has no library figure, when it has none. */
  libraryMissing?: string;
}

export async function runEmbedded(o: EmbeddedRunOptions): Promise<EmbeddedRunResult> {
  const bus = new MemoryBus();
  const farm = new Farm({ bus, recordsPath: o.recordsPath, settleMs: 0, warn: o.warn });
  const agent = o.createAgent({ backend: o.backend, bus, concurrency: o.concurrency, protocol: o.protocol });
  const kind = o.backend.kind;
  // The farm's timers do not hold the process open (a server does, in a farm); here the run must.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    agent.start();
    farm.addLocalAgent(agent);
    farm.start();
    const { id } = farm.submit(
      { op: o.def.op, shape: o.def.params, targets: [kind], trials: o.trials, explorer: o.explorer, seed: o.seed, protocol: o.protocol, remeasure: o.remeasure, remeasureRounds: o.remeasureRounds },
      { history: { [kind]: o.history ?? [] }, seeds: { [kind]: o.seeds ?? [] }, seedLabel: o.seedLabel, templates: { [kind]: o.backend.template }, limits: { [kind]: o.backend.limits },
        ...(o.prior?.length ? { prior: { [kind]: o.prior } } : {}) },
    );
    const results: MeasureResult[] = [];
    const remeasured: MeasureResult[] = [];
    const final = await new Promise<ReturnType<Farm['get']>>((resolve) => {
      let stop: (() => void) | undefined;
      let ended = false;
      stop = farm.watch(id, (event) => {
        if (event.result) {
          (event.remeasure ? remeasured : results).push(event.result);
          const plan = event.campaign.targets[0]?.remeasure;
          o.onResult?.(event.result, { remeasure: Boolean(event.remeasure), ...(plan ? { remeasured: plan } : {}) });
        }
        if (event.campaign.state !== 'running' && !ended) {
          ended = true;
          queueMicrotask(() => stop?.());
          resolve(event.campaign);
        }
      });
    });
    const libraryMissing = results.find((r) => r.yardstick?.libraryMissing)?.yardstick?.libraryMissing;
    return {
      state: final.state, results, remeasured, ...(final.targets[0]?.stopReason ? { stopReason: final.targets[0].stopReason } : {}),
      ...(libraryMissing ? { libraryMissing } : {}),
    };
  } finally {
    clearInterval(keepAlive);
    await agent.stop(0);
    await farm.close();
    await bus.close();
  }
}
