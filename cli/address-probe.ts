// What answers at HOST:PORT when a gRPC call there fails: a NATS server greets every client with
// `INFO {…}`, an HTTP server answers a request with `HTTP/1.x`. Used only to explain a failure.
import net from 'node:net';
import tls from 'node:tls';

export type Answerer = 'nats' | 'http' | 'refused' | 'unknown';

/** Connects once and reads what the server says first (or in answer to one HTTP request). */
export function probeAddress(address: string, timeoutMs = 1_000): Promise<Answerer> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) return Promise.resolve('unknown');
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (what: Answerer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(asked);
      socket.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    // NATS speaks first; a server that has said nothing after a moment is asked in HTTP.
    const asked = setTimeout(() => socket.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`), Math.min(200, timeoutMs / 2));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('INFO ')) done('nats');
      else if (/^HTTP\/1\.[01] /.test(received)) done('http');
      else if (received.length >= 16) done('unknown');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
    socket.on('close', () => done('unknown'));
  });
}

/** Whether a TLS handshake succeeds at HOST:PORT (any certificate): a plaintext client's failure
 *  there means the server wants TLS. */
export function speaksTls(address: string, timeoutMs = 1_000): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    // Only a probe: the certificate is not trusted for anything, so it is not verified.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], ...(net.isIP(host) ? {} : { servername: host }) });
    const done = (yes: boolean) => { clearTimeout(timer); socket.destroy(); resolve(yes); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}
