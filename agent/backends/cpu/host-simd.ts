// The host's SIMD: read from the CPU's flags, never assumed. gcc -march=native targets the same
// flags, so the vector width the renderer uses is one the compiled code can execute.
import { readFileSync } from 'node:fs';

export interface HostSimd {
  /** The widest vector extension: 'avx512f', 'avx2', 'avx', 'sse2' or 'none'. */
  isa: string;
  /** Floats per vector register (16, 8, 4, or 1 with no SIMD). */
  vectorWidth: number;
  /** Architectural vector registers (AVX-512 32, AVX 16, NEON 32). */
  vectorRegisters: number;
}

const BY_WIDTH: [flag: string, floats: number, registers: number][] = [
  ['avx512f', 16, 32], ['avx2', 8, 16], ['avx', 8, 16], ['sse2', 4, 16], ['asimd', 4, 32],
];

/** The ISA from a /proc/cpuinfo `flags` (or arm `Features`) line's words. */
export function simdFromFlags(flags: readonly string[]): HostSimd {
  const set = new Set(flags);
  const found = BY_WIDTH.find(([flag]) => set.has(flag));
  return found ? { isa: found[0], vectorWidth: found[1], vectorRegisters: found[2] } : { isa: 'none', vectorWidth: 1, vectorRegisters: 16 };
}

/** The words of /proc/cpuinfo's first `flags` (or arm `Features`) line; none off Linux. */
export function hostCpuFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    return line ? line.split(':')[1].trim().split(/\s+/) : [];
  } catch {
    return [];  // no /proc: scalar code is always correct
  }
}

/** The x86 extensions a cap may name, widest first, and the gcc flag that turns each one off
 *  (with everything that needs it: -mno-avx2 also drops AVX-512) under -march=native. */
const CAPS: [isa: string, off: string][] = [['avx512f', '-mno-avx512f'], ['avx2', '-mno-avx2'], ['avx', '-mno-avx'], ['sse2', '-mno-sse2']];

export interface CappedSimd { simd: HostSimd; flags: string[]; compilerFlags: string[] }

/** The host's SIMD no wider than `cap` (tuning for a fleet of narrower CPUs, or measuring the
 *  AVX2 code path on an AVX-512 host): the CPU flags with the wider extensions removed, and the
 *  gcc flags that keep -march=native from using them. A cap the host lacks is an error. */
export function capSimd(flags: readonly string[], cap: string): CappedSimd {
  const at = CAPS.findIndex(([isa]) => isa === cap);
  if (at < 0) throw new RangeError(`ISA '${cap}' is not one of ${CAPS.map(([isa]) => isa).join(', ')}`);
  if (!flags.includes(cap)) throw new RangeError(`this CPU has no ${cap} (its widest is ${simdFromFlags(flags).isa})`);
  const wider = CAPS.slice(0, at);
  const kept = flags.filter((f) => !wider.some(([isa]) => f === isa || (isa === 'avx512f' && f.startsWith('avx512'))));
  return { simd: simdFromFlags(kept), flags: kept, compilerFlags: at > 0 ? [wider[at - 1][1]] : [] };
}

let cached: HostSimd | undefined;

export function hostSimd(): HostSimd {
  cached ??= simdFromFlags(hostCpuFlags());
  return cached;
}
