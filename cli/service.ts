// What long-running commands (agent, coordinator) share: timestamped log lines on stderr, a
// clean stop on SIGTERM / SIGINT, and grpc-js kept from printing its own lines.
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';

/** grpc-js prints errors it also returns ("E No address added out of total 1 resolved" before our
 *  "cannot listen on …: port … is taken"): silenced unless GRPC_VERBOSITY or GRPC_NODE_VERBOSITY
 *  asks for them. */
export function quietGrpcLog(env: NodeJS.ProcessEnv): void {
  if (env.GRPC_VERBOSITY === undefined && env.GRPC_NODE_VERBOSITY === undefined) setLogVerbosity(logVerbosity.NONE);
}

export function logLine(component: string, line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${component}: ${line}\n`);
}

/** Resolves with the first SIGTERM or SIGINT; a second one exits at once. With
 *  FLEXFARM_STOP_ON_STDIN_END=1 (children of `flexfarm farm up`), the end of stdin counts as a
 *  SIGTERM: the parent is gone, however it went. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const watchStdin = process.env.FLEXFARM_STOP_ON_STDIN_END === '1';
    const handler = (signal: NodeJS.Signals) => {
      if (watchStdin) process.stdin.destroy();
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      process.once('SIGTERM', () => process.exit(130));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    if (watchStdin) {
      process.stdin.on('data', () => undefined);
      process.stdin.once('end', () => handler('SIGTERM'));
    }
  });
}
