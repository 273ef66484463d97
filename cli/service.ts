// What long-running commands (agent, coordinator) share: timestamped log lines on stderr and a
// clean stop on SIGTERM / SIGINT.

export function logLine(component: string, line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${component}: ${line}\n`);
}

/** Resolves with the first SIGTERM or SIGINT; a second one exits at once. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      process.once('SIGTERM', () => process.exit(130));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
