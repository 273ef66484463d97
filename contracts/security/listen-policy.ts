// Whether a server may listen where it is asked: on loopback anything goes; beyond it, a server
// needs TLS and a way to authenticate clients (mTLS or a token), or an explicit --insecure.
import { FlexfarmError } from '../errors.ts';
import type { GrpcSecurity } from './grpc-security.ts';

export class InsecureListenError extends FlexfarmError {
  override name = 'InsecureListenError';
  readonly code = 'INSECURE_LISTEN';
}

/** 127.0.0.0/8, ::1 and localhost; anything else (0.0.0.0, [::], a name, a LAN address) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** What is exposed when `listen` is reached from the network with these credentials; null: nothing. */
export function exposure(listen: string, sec: GrpcSecurity): string | null {
  if (isLoopbackHost(listen.slice(0, listen.lastIndexOf(':')))) return null;
  if (!sec.identity && !sec.token) return 'no TLS and no client authentication: anyone who can reach the port can call it';
  if (!sec.identity) return 'no TLS: the token would cross the network in clear';
  if (!sec.mtls && !sec.token) return 'TLS alone authenticates no client: anyone who can reach the port can call it';
  return null;
}

export interface ListenDecision {
  /** The one-line reason to refuse; absent when allowed. */
  refused?: string;
  /** Allowed by --insecure: what that exposes, for a log line. */
  warning?: string;
}

export function listenDecision(listen: string, sec: GrpcSecurity, insecure: boolean): ListenDecision {
  const risk = exposure(listen, sec);
  if (!risk) return {};
  if (insecure) return { warning: `listening on ${listen} with ${risk} (--insecure)` };
  return {
    refused: `refusing to listen on ${listen}: ${risk}; give --tls-cert and --tls-key with --token-file or --mtls `
      + '(README "Security"), listen on 127.0.0.1, or add --insecure to accept the risk',
  };
}

/** Throws InsecureListenError when refused; returns the warning to log, if any. */
export function assertListenAllowed(listen: string, sec: GrpcSecurity, insecure: boolean): string | undefined {
  const d = listenDecision(listen, sec, insecure);
  if (d.refused) throw new InsecureListenError(d.refused);
  return d.warning;
}
