// Every fuzzing surface, in the order bench:fuzz runs them.
import { cliSurface } from './cli-flags.ts';
import { configsSurface } from './configs.ts';
import { grpcSurface } from './grpc.ts';
import { logReaderSurface } from './log-reader.ts';
import { natsSurface } from './nats.ts';
import { shapesSurface } from './shapes.ts';
import type { FuzzSurface } from '../fuzz-run.ts';

export const SURFACES: readonly FuzzSurface[] = [grpcSurface, natsSurface, logReaderSurface, shapesSurface, configsSurface, cliSurface];
