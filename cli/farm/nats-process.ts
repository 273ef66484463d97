// The nats-server of `flexfarm farm up`: JetStream on, its store in the farm's folder, bound to
// HOST:PORT (port 0: a free one, which nats-server calls -1).
import { ChildService } from './child-service.ts';

export function startNatsServer(options: { listen: string; storeDir: string; logPath: string }): Promise<ChildService> {
  const i = options.listen.lastIndexOf(':');
  const host = options.listen.slice(0, i), port = options.listen.slice(i + 1);
  return ChildService.start({
    name: 'nats-server',
    command: 'nats-server',
    args: ['-js', '-a', host, '-p', port === '0' ? '-1' : port, '-sd', options.storeDir],
    logPath: options.logPath,
    // "Listening for client connections on 127.0.0.1:4222" comes before "Server is ready".
    ready: /Listening for client connections on (\S+)[\s\S]*Server is ready/,
    readyTimeoutMs: 15_000,
  }).catch((err: Error) => {
    if (/spawn nats-server ENOENT/.test(err.message)) throw new Error('nats-server is not installed: install it (Debian: apt-get install -y nats-server)');
    throw err;
  });
}
