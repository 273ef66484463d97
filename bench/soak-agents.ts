// One agent host of bench:soak: many sim agents in this process (each its own gRPC server and
// NATS connection), so that 100 agents fit a few processes on 2 cores. Prints "ready" once all
// are serving; runs until killed (the soak SIGKILLs it).
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../agent/server.ts';
import { NatsBus } from '../contracts/bus-nats.ts';

const [natsUrl, namesText, delayText] = process.argv.slice(2);
const names = namesText.split(',');
await Promise.all(names.map(async (name, i) => {
  const bus = await NatsBus.connect({ servers: natsUrl, name });
  await AgentServer.start({ name, backend: new SimBackend({ seed: i, delayMs: Number(delayText) }), bus, listen: '127.0.0.1:0', heartbeatMs: 500, capacity: 4 });
}));
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
