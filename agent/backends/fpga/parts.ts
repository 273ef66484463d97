import { FlexfarmError } from '../../../contracts/errors.ts';
// FPGA parts an agent can estimate for: published resource counts (the budgets a config must fit)
// and the off-chip memory of the board the part usually sits on (the bandwidth of burst copies).
// Resource counts are those of the vendor's product tables, as Vitis HLS also reports them under
// AvailableResources (BRAM as 18 Kb blocks: two per 36 Kb block RAM).

export interface FpgaPart {
  /** Short name, as `--part` takes it. */
  name: string;
  /** Full part number for `set_part` in Vitis HLS. */
  partNumber: string;
  description: string;
  dsp: number;
  bram18: number;
  lut: number;
  ff: number;
  uram: number;
  /** Kernel clock used when none is given. */
  defaultClockMhz: number;
  /** Off-chip memory channels of the board and the bandwidth of each (GB/s). */
  memoryChannels: number;
  channelGBs: number;
  memoryBytes: number;
}

const GiB = 1024 ** 3;

export const FPGA_PARTS: readonly FpgaPart[] = [
  {
    name: 'xcvu9p', partNumber: 'xcvu9p-flgb2104-2-i',
    description: 'Virtex UltraScale+ VU9P (FlexTensor\'s FPGA; AWS F1, VCU1525), 4 x DDR4-2400',
    dsp: 6840, bram18: 4320, lut: 1_182_240, ff: 2_364_480, uram: 960,
    defaultClockMhz: 300, memoryChannels: 4, channelGBs: 19.2, memoryBytes: 64 * GiB,
  },
  {
    name: 'xcu250', partNumber: 'xcu250-figd2104-2L-e',
    description: 'Alveo U250 (Virtex UltraScale+), 4 x DDR4-2400',
    dsp: 12_288, bram18: 5376, lut: 1_728_000, ff: 3_456_000, uram: 1280,
    defaultClockMhz: 300, memoryChannels: 4, channelGBs: 19.2, memoryBytes: 64 * GiB,
  },
  {
    name: 'xcu280', partNumber: 'xcu280-fsvh2892-2L-e',
    description: 'Alveo U280 (Virtex UltraScale+ with HBM2), 32 HBM pseudo-channels',
    dsp: 9024, bram18: 4032, lut: 1_303_680, ff: 2_607_360, uram: 960,
    defaultClockMhz: 300, memoryChannels: 32, channelGBs: 14.375, memoryBytes: 8 * GiB,
  },
  {
    name: 'xcku115', partNumber: 'xcku115-flvb2104-2-e',
    description: 'Kintex UltraScale KU115, 2 x DDR4-2400',
    dsp: 5520, bram18: 4320, lut: 663_360, ff: 1_326_720, uram: 0,
    defaultClockMhz: 250, memoryChannels: 2, channelGBs: 19.2, memoryBytes: 16 * GiB,
  },
  {
    name: 'xczu9eg', partNumber: 'xczu9eg-ffvb1156-2-e',
    description: 'Zynq UltraScale+ ZU9EG (ZCU102), PS DDR4-2133',
    dsp: 2520, bram18: 1824, lut: 274_080, ff: 548_160, uram: 0,
    defaultClockMhz: 200, memoryChannels: 1, channelGBs: 17, memoryBytes: 4 * GiB,
  },
  {
    name: 'xc7z020', partNumber: 'xc7z020clg400-1',
    description: 'Zynq-7000 Z-7020 (PYNQ-Z1, ZedBoard), DDR3-1066 x32',
    dsp: 220, bram18: 280, lut: 53_200, ff: 106_400, uram: 0,
    defaultClockMhz: 100, memoryChannels: 1, channelGBs: 4.2, memoryBytes: 0.5 * GiB,
  },
];

export const DEFAULT_FPGA_PART = 'xcvu9p';

export class UnknownPartError extends FlexfarmError {
  override name = 'UnknownPartError';
  readonly code = 'UNKNOWN_PART';
  constructor(readonly part: string) {
    super(`unknown FPGA part '${part}' (known: ${FPGA_PARTS.map((p) => p.name).join(', ')})`);
  }
}

/** A part by short name or full part number (case-insensitive). */
export function fpgaPart(name: string): FpgaPart {
  const key = name.toLowerCase();
  const part = FPGA_PARTS.find((p) => p.name === key || p.partNumber.toLowerCase() === key);
  if (!part) throw new UnknownPartError(name);
  return part;
}

/** Floating-point multiply-adds the part's DSPs can sustain per cycle (5 DSPs each). */
export function peakGflops(part: FpgaPart, clockMhz: number, dspPerMac: number): number {
  return (Math.floor(part.dsp / dspPerMac) * 2 * clockMhz) / 1000;
}
