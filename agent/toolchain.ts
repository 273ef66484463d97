// The compilers a backend builds with: every C or C++ backend (CPU, FPGA C simulation) asks for
// the compiler's version at start-up, so a missing toolchain is refused at once, clearly.
import { execFileSync } from 'node:child_process';
import { FlexfarmError } from '../contracts/errors.ts';

export class ToolchainMissingError extends FlexfarmError {
  override name = 'ToolchainMissingError';
  readonly code = 'TOOLCHAIN_MISSING';
}

/** The compiler's version line; throws ToolchainMissingError when it is not installed. */
export function compilerVersion(command: string): string {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    throw new ToolchainMissingError(`C compiler '${command}' not found: install it (Debian: apt-get install -y gcc)`);
  }
}
