// Preloaded (node --import) into child processes that must not reach the network: every socket connection
// to a host other than loopback is refused and reported on stderr, so a test can assert that none was tried.
import net from 'node:net';

export const REFUSED_MARK = 'loopback-only: refused a connection to';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  // net.connect passes its already-normalised [options, callback] array as the first argument
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = (typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }) as {
    host?: string;
    port?: unknown;
    path?: string;
  };
  if (options.path === undefined && !isLoopback(options.host ?? 'localhost')) {
    process.stderr.write(`${REFUSED_MARK} ${options.host}:${String(options.port)}\n`);
    process.nextTick(() => this.destroy(new Error(`network access to ${options.host} is not allowed in this process`)));
    return this;
  }
  return connect.apply(this, args as Parameters<typeof connect>);
} as typeof connect;
