// `flexfarm agents`: the agents a coordinator sees, with their state and load.
import type * as pb from '../../proto/flexfarm/v1/coordinator.ts';
import { parseFlags } from '../args.ts';
import { coordinatorClientFor } from '../coordinator-client.ts';
import { CLIENT_SECURITY_FLAGS, SECRET_FLAG_NOTES, securityUsage } from '../security-flags.ts';

const USAGE = `usage: flexfarm agents [--coordinator ADDR] [--json]

--coordinator defaults to FLEXFARM_COORDINATOR, else 127.0.0.1:7000.
A coordinator with TLS and a token (README "Security") takes the same credentials:
${securityUsage('client').join('\n')}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { coordinator: { type: 'string' }, json: { type: 'boolean' }, ...CLIENT_SECURITY_FLAGS, help: { type: 'boolean' } }, false, SECRET_FLAG_NOTES);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const client = coordinatorClientFor(values);
  try {
    const { agents } = await client.call<pb.ListAgentsRequest, pb.ListAgentsResponse>('listAgents', {});
    if (values.json) {
      process.stdout.write(`${JSON.stringify(agents.map((a) => ({
        name: a.name, address: a.address, kind: a.kind, model: a.model, state: a.state, source: a.source,
        capacity: a.capacity, inFlight: a.inFlight, measured: a.measured, lastSeenSecondsAgo: a.lastSeenSecondsAgo,
        load: a.load ?? null, toolchain: a.device?.toolchain ?? '',
      })))}\n`);
      return 0;
    }
    if (!agents.length) {
      process.stdout.write('no agents: start one with `flexfarm agent --device cpu --nats URL` (see README)\n');
      return 0;
    }
    const rows = [['NAME', 'KIND', 'STATE', 'ADDRESS', 'CAPACITY', 'IN FLIGHT', 'MEASURED', 'LAST SEEN', 'MODEL']];
    for (const a of agents) {
      rows.push([a.name, a.kind, a.state, a.address, String(a.capacity), String(a.inFlight), String(a.measured), `${a.lastSeenSecondsAgo.toFixed(1)} s ago`, a.model]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) process.stdout.write(`${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}\n`);
    return 0;
  } finally {
    client.close();
  }
}
