// Why a server could not bind its address, in words, for gRPC (grpc-js puts the system error in
// its message: "No address added out of total 1 resolved errors: [listen EADDRINUSE: …]") and for
// node:http (the error's `code`) alike.

const REASONS: Record<string, (port: string) => string> = {
  EADDRINUSE: (port) => `port ${port} is taken by another process (pick another port, or port 0 for a free one)`,
  EACCES: (port) => `not allowed to bind port ${port} (ports below 1024 need root; pick a higher one)`,
  EADDRNOTAVAIL: () => 'no network interface of this host has that address (127.0.0.1 for this machine only, 0.0.0.0 for every interface)',
  ENOTFOUND: () => 'the host name does not resolve',
};

/** "cannot listen on ADDR[ (what)]: REASON" — the system's own text where no reason is known. */
export function listenFailureMessage(listen: string, err: unknown, what?: string): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const text = e?.message ?? String(err);
  const code = e?.code && e.code in REASONS ? e.code : Object.keys(REASONS).find((c) => text.includes(c));
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  const reason = code ? REASONS[code](port) : text;
  return `cannot listen on ${listen}${what ? ` (${what})` : ''}: ${reason}`;
}
