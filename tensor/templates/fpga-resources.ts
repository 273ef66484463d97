// The resource half of the FPGA model: DSP slices, BRAM, LUTs and flip-flops a plan needs, so that
// a config over the part's budget is rejected (INSTANTIATION) before anything is compiled.
//
// Operators: single-precision multiply and add as Vitis HLS binds them with full DSP usage on
// UltraScale+ (the Floating-Point Operator core, PG060): fmul 3 DSP48E2, fadd/fsub 2 DSP48E2 —
// one multiply-add costs 5 DSPs. The pipeline needs, per iteration, one multiply per product of
// the body and, per spatial PE, as many adds as reduce lanes (an adder tree of L-1 adds plus the
// accumulate). With a target II above 1, HLS shares each operator between II operations.
// LUT/FF per operator are typical Vitis HLS report figures for these cores at ~300 MHz.
//
// Buffers: every bank of a partitioned buffer is its own memory. One element per bank is a
// register; up to 64 elements is LUTRAM (32-bit wide dual-port distributed RAM, 2 LUTs per bit per
// 64 words); larger banks are BRAM18s (512 x 36 simple dual port up to 512 words, then pairs of
// 1K x 18 for each 1024 words). Off-chip ports are AXI masters (with their read/write FIFOs),
// control is an AXI-Lite slave.
import type { Expr } from '../ir.ts';
import { bankDepth, type FpgaPlan, type TileBuffer } from './fpga-plan.ts';
import { product } from './split.ts';

export interface FpgaResources { dsp: number; bram18: number; lut: number; ff: number; uram: number }

/** The part's budget, as the agent reports it in its limits. */
export interface FpgaBudget { dsp: number; bram18: number; lut: number; ff: number; uram: number }

export const FLOAT_OPERATORS = {
  /** Combinational delay that sets the pipeline stages at a clock (cycles = ceil(ns * MHz / 1000)). */
  fmul: { dsp: 3, lut: 321, ff: 143, latencyNs: 10 },
  fadd: { dsp: 2, lut: 390, ff: 205, latencyNs: 13 },
} as const;
export const DSP_PER_MAC = FLOAT_OPERATORS.fmul.dsp + FLOAT_OPERATORS.fadd.dsp;

const LUTRAM_MAX_DEPTH = 64;
const LUT_PER_LUTRAM_64 = 64;
const FF_PER_REGISTER = 32;
const AXI_MASTER = { lut: 1500, ff: 2000, bram18: 4 };
const AXI_LITE = { lut: 250, ff: 300 };
const CONTROL = { lut: 2000, ff: 2500 };
const LUT_PER_SELECT = 32;
const LUT_PER_COMPARE = 12;
const LUT_PER_BANK = 16;
const FF_PER_LANE = 64;
/** Beyond these, HLS compile time explodes long before resources run out. */
export const MAX_BANKS_PER_BUFFER = 4096;
export const MAX_LANES = 16384;

/** Float operations of one evaluation of the body (loads and index arithmetic excluded). */
export interface BodyOps { muls: number; adds: number; selects: number; compares: number }

export function bodyOps(body: Expr): BodyOps {
  const ops: BodyOps = { muls: 0, adds: 0, selects: 0, compares: 0 };
  const visit = (e: Expr): void => {
    switch (e.k) {
      case 'bin':
        if (e.op === '*') ops.muls++;
        else if (e.op === '+' || e.op === '-') ops.adds++;
        visit(e.a); visit(e.b);
        return;
      case 'select':
        ops.selects++;
        countCompares(e.cond);
        visit(e.a); visit(e.b);
        return;
      default: return;
    }
  };
  const countCompares = (e: Expr): void => {
    if (e.k === 'cmp') ops.compares++;
    else if (e.k === 'and') e.terms.forEach(countCompares);
  };
  visit(body);
  return ops;
}

/** PEs (spatial unroll product) and lanes per PE (reduce unroll product). */
export function peArray(plan: FpgaPlan): { pes: number; lanes: number } {
  return { pes: product(plan.spatial.map((a) => a.unroll)), lanes: product(plan.reduce.map((a) => a.unroll)) };
}

/** Operators the pipeline instantiates after sharing by the target II. */
export function operatorUnits(plan: FpgaPlan): { fmul: number; fadd: number } {
  const { pes, lanes } = peArray(plan);
  const ops = bodyOps(plan.def.body);
  const reductionAdds = plan.reduce.length ? pes * lanes : 0;
  return {
    fmul: Math.ceil((pes * lanes * ops.muls) / plan.ii),
    fadd: Math.ceil((pes * lanes * ops.adds + reductionAdds) / plan.ii),
  };
}

export function bufferResources(buffer: TileBuffer): FpgaResources {
  const banks = product(buffer.banks);
  const depth = bankDepth(buffer);
  const r: FpgaResources = { dsp: 0, bram18: 0, lut: banks > 1 ? banks * LUT_PER_BANK : 0, ff: 0, uram: 0 };
  if (depth <= 1) r.ff += banks * FF_PER_REGISTER;
  else if (depth <= LUTRAM_MAX_DEPTH) r.lut += banks * LUT_PER_LUTRAM_64;
  else r.bram18 += banks * (depth <= 512 ? 1 : 2 * Math.ceil(depth / 1024));
  return r;
}

export function estimateResources(plan: FpgaPlan): FpgaResources {
  const units = operatorUnits(plan);
  const { pes, lanes } = peArray(plan);
  const ops = bodyOps(plan.def.body);
  const { fmul, fadd } = FLOAT_OPERATORS;
  const total: FpgaResources = {
    dsp: units.fmul * fmul.dsp + units.fadd * fadd.dsp,
    bram18: 0,
    lut: units.fmul * fmul.lut + units.fadd * fadd.lut + CONTROL.lut + AXI_LITE.lut
      + pes * lanes * (ops.selects * LUT_PER_SELECT + ops.compares * LUT_PER_COMPARE),
    ff: units.fmul * fmul.ff + units.fadd * fadd.ff + CONTROL.ff + AXI_LITE.ff + pes * lanes * FF_PER_LANE,
    uram: 0,
  };
  for (const buffer of [...plan.inputs, plan.output]) {
    const b = bufferResources(buffer);
    total.bram18 += b.bram18; total.lut += b.lut; total.ff += b.ff;
  }
  const ports = plan.inputs.length + 1;
  total.lut += ports * AXI_MASTER.lut;
  total.ff += ports * AXI_MASTER.ff;
  total.bram18 += ports * AXI_MASTER.bram18;
  return total;
}

/** The first resource over budget, as a message naming it; null when everything fits. */
export function overBudget(used: FpgaResources, budget: Partial<FpgaBudget>): string | null {
  const names: [keyof FpgaBudget, string][] = [['dsp', 'DSP slices'], ['bram18', 'BRAM18 blocks'], ['lut', 'LUTs'], ['ff', 'flip-flops'], ['uram', 'URAM blocks']];
  for (const [key, label] of names) {
    const limit = budget[key];
    if (typeof limit === 'number' && used[key] > limit) return `needs ${used[key]} ${label}, the part has ${limit}`;
  }
  return null;
}
