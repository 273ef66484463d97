// The device kinds' own flags of `flexfarm agent`, read from their agent-side specs
// (agent/backends/<kind>/<kind>-target.ts): parsing (flag, else its environment variable) and
// the usage lines. No kind's flag is named here.
import { agentFlags, type AgentFlag, type FlagValues } from '../agent/backends/index.ts';
import { envName } from '../agent/backends/backend-spec.ts';
import { parseInteger } from './args.ts';

/** Width of a usage line's flag column, as the agent's other flags are laid out. */
const FLAG_COLUMN = 21;

/** One flag per name (kinds may share one), as parseArgs options. */
export function kindFlagOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(agentFlags().map(({ flag }) => [flag.name, { type: 'string' as const }]));
}

/** Every kind's flags parsed from the command line, else from the environment; absent ones left out. */
export function readKindFlags(values: Record<string, unknown>, env: NodeJS.ProcessEnv): FlagValues {
  const out: Record<string, number | string> = {};
  for (const { flag } of agentFlags()) {
    if (flag.name in out) continue;
    const text = (values[flag.name] as string | undefined) ?? env[envName(flag.name)];
    if (text === undefined) continue;
    out[flag.name] = flag.type === 'integer' ? parseInteger(`--${flag.name}`, text, 0, flag.min ?? 0) : text;
  }
  return out;
}

/** `  --threads N          cpu: OpenMP threads of timing runs (FLEXFARM_THREADS, default all cores)` */
export function kindFlagUsage(): string[] {
  return agentFlags().map(({ kind, flag }) => {
    const defaultText = flag.default !== undefined ? String(flag.default) : flag.defaultText;
    const notes = [envName(flag.name), ...(defaultText !== undefined ? [`default ${defaultText}`] : [])].join(', ');
    return `  ${`--${flag.name} ${metavar(flag)}`.padEnd(FLAG_COLUMN - 2)}  ${kind}: ${flag.help} (${notes})`;
  });
}

const metavar = (flag: AgentFlag) => flag.metavar ?? (flag.type === 'integer' ? 'N' : 'VALUE');
