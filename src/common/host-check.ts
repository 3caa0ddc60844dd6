import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, isLoopbackHost } from '../config/app-config.js';
import { errorEnvelope } from './envelope.js';
import { ErrorCode } from './error-codes.js';

/** The name in a Host header, without its port and brackets, lower-cased; '' when there is none. */
export function hostName(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(value);
  if (bracketed) return bracketed[1];
  // a bare IPv6 address has several colons and no port
  return (value.split(':').length > 2 ? value : value.replace(/:\d*$/, '')).replace(/\.$/, '');
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Which Host headers the service answers (against DNS rebinding), or null when it answers any:
 * with an API key and no ALLOWED_HOSTS a rebinding page cannot know the key, so names are not checked.
 */
export function hostPolicy(config: Pick<AppConfig, 'apiKey' | 'allowedHosts' | 'host'>): ((header: string | undefined) => boolean) | null {
  if (config.apiKey && !config.allowedHosts) return null;
  const bound = config.host.toLowerCase().replace(/^\[|\]$/g, '');
  const names = [...(config.allowedHosts ?? []), ...(WILDCARD_BINDS.has(config.host) ? [] : [bound])];
  if (names.includes('*')) return null;
  return (header) => {
    const name = hostName(header);
    if (!name) return false;
    if (isLoopbackHost(name)) return true;
    // ".example.com" and "*.example.com" stand for the name and every name under it
    return names.some((entry) => {
      const suffix = entry.replace(/^\*/, '');
      return suffix.startsWith('.') ? name === suffix.slice(1) || name.endsWith(suffix) : name === entry;
    });
  };
}

/** Answers 421 to a request for a host name the service does not go by; /healthy included (loopback probes pass). */
export function registerHostCheck(instance: { addHook(name: 'onRequest', hook: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void): unknown }, config: AppConfig): void {
  const allowed = hostPolicy(config);
  if (!allowed) return;
  instance.addHook('onRequest', (request, reply, done) => {
    if (allowed(request.headers.host)) return done();
    const shown = hostName(request.headers.host).slice(0, 100) || '(none)';
    const message = `This service does not answer to the host name "${shown}": a page that renamed a host to reach it is refused (DNS rebinding). Add the name to ALLOWED_HOSTS to use it.`;
    reply.status(421).header('content-type', 'application/json; charset=utf-8').send(errorEnvelope(421, message, ErrorCode.HostNotAllowed));
  });
}
