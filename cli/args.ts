// Flag parsing shared by the commands: strict (unknown flags are errors), with clear messages.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FlexfarmError } from '../contracts/errors.ts';
import { quote } from '../contracts/messages/limits.ts';
import { unknownFlagMessage } from './flag-suggestion.ts';

/** A usage error: the command prints it on stderr and exits with status 2. */
export class UsageError extends FlexfarmError {
  override name = 'UsageError';
  readonly code = 'USAGE';
}

/** `notes`: a sentence per unknown flag a user is likely to try (another command's flag), said
 *  after the "did you mean". */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = true, notes: Readonly<Record<string, string>> = {}) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(e.message)?.[1] : undefined;
    if (unknown) {
      const note = notes[unknown.replace(/^-+/, '').split('=')[0]];
      throw new UsageError(`${unknownFlagMessage(unknown, Object.keys(options))}${note ? ` (${note})` : ''}`);
    }
    throw new UsageError(e.message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** `--trials -1` → `--trials=-1`: node reads a value that starts with a dash as a flag and says
 *  only "ambiguous"; joined, the value reaches the command, which names what is wrong with it. */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name && options[name]?.type === 'string' && /^-\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** `M=512,N=512,K=512` → { M: 512, N: 512, K: 512 }. Values must be integers. */
export function parseShape(text: string | undefined): Record<string, number> {
  if (!text) throw new UsageError('--shape is required, e.g. --shape M=512,N=512,K=512 (see `flexfarm ops`)');
  // No prototype: `constructor=3` or `__proto__=3` is an unknown parameter, not "given twice" or lost.
  const shape: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+)$/.exec(part);
    if (!m) throw new UsageError(`--shape: cannot read ${quote(part)}: expected NAME=INTEGER`);
    if (Object.hasOwn(shape, m[1])) throw new UsageError(`--shape: ${m[1]} given twice`);
    shape[m[1]] = Number(m[2]);
  }
  return shape;
}

export function parseInteger(flag: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag}: expected an integer, got ${quote(text)}`);
  const value = Number(text);
  if (value < min) throw new UsageError(`${flag}: must be >= ${min}, got ${value}`);
  return value;
}

export function oneOf<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${flag}: ${quote(text)} is not one of ${allowed.join(', ')}`);
  return text as T;
}
