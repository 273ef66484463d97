// Issue 15, item 6: a bounded share of the wire's fuzzing, both gRPC services over a real socket
// and every NATS subject on a real nats-server (bench:fuzz runs >= 10,000 each).
import { expect, test } from 'vitest';
import { suiteRuns, type FuzzSurface } from './fuzz-run.ts';
import { grpcSurface } from './surfaces/grpc.ts';
import { natsSurface } from './surfaces/nats.ts';

const cases: [string, FuzzSurface, number][] = [[grpcSurface.name, grpcSurface, 100], [natsSurface.name, natsSurface, 300]];

test.each(cases)('%s: generated messages', async (_name, surface, runs) => {
  const outcome = await surface.run(suiteRuns(runs));
  expect(outcome.runs).toBe(suiteRuns(runs));
}, 120_000);
