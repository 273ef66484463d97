// "did you mean" for an unknown flag: the closest flag the command takes, by edit distance or
// prefix, so `campaign submit --target cpu` points at `--targets` and `tune --targets` at `--target`.

/** Edits (insert, delete, substitute) that turn a into b. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known flag closest to `unknown` (names without dashes), or undefined when none is close:
 *  within a third of the name's length in edits (at least 1), or one a prefix of the other. */
export function closestFlag(unknown: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const prefix = unknown.length >= 3 && (name.startsWith(unknown) || unknown.startsWith(name));
    const distance = editDistance(unknown, name);
    if (distance > limit && !prefix) continue;
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}

/** The message for an unknown flag: what was given, the closest known flag, where to look. */
export function unknownFlagMessage(given: string, known: readonly string[]): string {
  const name = given.replace(/^-+/, '').split('=')[0];
  const suggestion = closestFlag(name, known.filter((k) => k !== 'help'));
  return suggestion ? `unknown flag ${given}; did you mean --${suggestion}?` : `unknown flag ${given} (--help lists the flags)`;
}
