// How an error message quotes a string it was given (a shape, an operator name, a flag value):
// at most 64 characters, control characters and quotes escaped, the full length when cut — so
// that a 100 KB input never comes back whole. contracts/ re-exports it for every layer above.

/** Most characters of a client's string quoted in an error message. */
const QUOTED_CHARS = 64;

/** A string as error messages quote it, in single quotes: at most 64 characters (with the full
 *  length when cut), control characters and quotes escaped. */
export function quote(value: string): string {
  const shown = value.slice(0, QUOTED_CHARS).replace(/[\x00-\x1f\x7f'\\]/g, (c) => (c === "'" ? "\\'" : JSON.stringify(c).slice(1, -1)));
  return value.length > QUOTED_CHARS ? `'${shown}'… (${value.length} characters)` : `'${shown}'`;
}

/** A JSON value as an error message shows it: its JSON text (control characters escaped) when
 *  short, else quoted and cut at 64 characters. */
export function shown(value: unknown): string {
  const text = String(JSON.stringify(value));
  return text.length <= QUOTED_CHARS ? text : quote(text);
}
