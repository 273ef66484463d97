// The `flexfarm` command: picks a subcommand and turns its errors into messages and exit codes.
import { TARGET_KINDS } from '../contracts/targets.ts';
import { UsageError } from './args.ts';
import { quietTlsIpAddressWarning } from './tls-warning.ts';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  tune: { summary: 'tune one operator on one target (embedded agent, no servers)', load: () => import('./commands/tune.ts') },
  ops: { summary: 'list operators and their shape parameters', load: () => import('./commands/ops.ts') },
  codegen: { summary: 'print the source the agent would compile for a config', load: () => import('./commands/codegen.ts') },
  best: { summary: 'the best measurement per workload and device in tuning logs', load: () => import('./commands/best.ts') },
  export: { summary: 'write the best kernel as a standalone source tree (make run)', load: () => import('./commands/export.ts') },
  model: { summary: 'an ONNX model: its tunable layers (model layers), tune them all (model tune), against oneDNN (model report)', load: () => import('./commands/model.ts') },
  report: { summary: 'write a self-contained HTML report of tuning logs', load: () => import('./commands/report.ts') },
  verify: { summary: 'measure the recorded best of each workload again on this host; exit 1 when off', load: () => import('./commands/verify.ts') },
  agent: { summary: 'serve one device to the farm (gRPC, NATS heartbeats and results)', load: () => import('./commands/agent.ts') },
  coordinator: { summary: 'run the farm coordinator (campaigns, dispatch, results)', load: () => import('./commands/coordinator.ts') },
  campaign: { summary: 'submit, get, list, cancel or watch campaigns on a coordinator', load: () => import('./commands/campaign.ts') },
  agents: { summary: 'list the agents a coordinator sees', load: () => import('./commands/agents.ts') },
  farm: { summary: 'farm up: nats-server, a coordinator and an agent per local device on this machine', load: () => import('./commands/farm.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ['usage: flexfarm <command> [flags]', '', 'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '', `targets (--target, --device): ${TARGET_KINDS.join(', ')}`,
    'flexfarm <command> --help shows its flags.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`flexfarm: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  quietTlsIpAddressWarning();
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`flexfarm ${name}: ${e.message}\n`);
    if (process.env.FLEXFARM_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
