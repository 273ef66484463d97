// Entry point: `node --import tsx cli/flexfarm.ts <command> …` (bin/flexfarm.mjs loads it too).
import { main } from './main.ts';

// `flexfarm ops | head`: a closed pipe ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
