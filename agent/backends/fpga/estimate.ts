// What an FPGA estimate consists of, whichever estimator produced it (the analytical model or a
// Vitis HLS synthesis report): the same fields, so results compare across estimators.
import type { FpgaResources } from '../../../tensor/templates/fpga-resources.ts';

export type Estimator = 'model' | 'vitis_hls';

export interface LoopEstimate {
  /** Loop label (`L_<loop variable>` for the pipelined loops flexfarm generates). */
  name: string;
  tripCount: number;
  /** Achieved initiation interval; absent for loops that are not pipelined. */
  ii?: number;
  /** Pipeline depth (iteration latency) in cycles. */
  depth?: number;
  /** Cycles of all its iterations, when known. */
  latency?: number;
}

export interface FpgaEstimate {
  estimator: Estimator;
  /** Cycles of one run of the top function (worst case). */
  cycles: number;
  clockMhz: number;
  /** cycles / clock. */
  seconds: number;
  /** Achieved initiation interval of the compute pipeline. */
  ii: number;
  resources: FpgaResources;
  loops: LoopEstimate[];
}

export const secondsOf = (cycles: number, clockMhz: number): number => cycles / (clockMhz * 1e6);
