// The one C harness (ff-harness.h beside this file) as text for the renderers that inline it into
// the programs they generate, its folder for the compilers that #include it (the bench anchors),
// and its exit statuses for the code that reads the programs' results.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding ff-harness.h: an include path (-I) for programs that #include it. */
export const HARNESS_INCLUDE_DIR = dirname(fileURLToPath(import.meta.url));

/** ff-harness.h, to inline in a generated program (it has its own include guard). */
export const HARNESS_C: string = readFileSync(join(HARNESS_INCLUDE_DIR, 'ff-harness.h'), 'utf8');

/** The harness's exit statuses (FF_EXIT_* in ff-harness.h; a test holds the two equal). */
export const HARNESS_EXIT = { FAILED: 1, USAGE: 2, WRONG_ANSWER: 3, NO_MEMORY: 4 } as const;
