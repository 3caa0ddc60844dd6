import { type LookupAddress, type LookupOptions, lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ErrorCode } from '../common/error-codes.js';
import { CodedTaskError } from './task-errors.js';

type Family = 'ipv4' | 'ipv6';

/** Address ranges a task may not reach unless ALLOW_PRIVATE_ADDRESSES=true, by what a user would call them. */
const REFUSED: Array<[kind: string, ranges: Array<[network: string, prefix: number, family: Family]>]> = [
  ['a loopback address', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  ['a private address', [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4']]],
  ['a link-local address', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]],
  ['a unique-local address', [['fc00::', 7, 'ipv6'], ['fec0::', 10, 'ipv6']]],
  ['an unspecified address', [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]],
  ['a multicast or reserved address', [['224.0.0.0', 3, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['ff00::', 8, 'ipv6']]],
];

// node's BlockList matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules as well
const LISTS = REFUSED.map(([kind, ranges]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return { kind, list };
});

/** What kind of refused address this is ("a loopback address"…), or null for a public one. */
export function refusedAddressKind(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return null;
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(address, type))?.kind ?? null;
}

/** A task tried to reach an address the guard refuses: it fails at once, naming the host and the address. */
export class AddressNotAllowedError extends CodedTaskError {
  constructor(
    readonly host: string,
    readonly address: string,
    kind: string,
  ) {
    const where = host === address ? `the address ${address}` : `${host} (which resolves to ${address})`;
    super(ErrorCode.AddressNotAllowed, `${where} is ${kind}, which tasks may not reach; set ALLOW_PRIVATE_ADDRESSES=true to allow local and private addresses`);
    this.name = 'AddressNotAllowedError';
  }
}

/** Says what kind of refused address an address is, or null to allow it. */
export type AddressPolicy = (address: string) => string | null;

function bareHost(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/**
 * Refuses loopback, private, link-local and unique-local addresses for every request a task makes
 * (ALLOW_PRIVATE_ADDRESSES=false). The policy is replaceable so that a test can allow one loopback origin.
 */
export class AddressGuard {
  constructor(private readonly kindOf: AddressPolicy = refusedAddressKind) {}

  /** Throws if the address is one the guard refuses. */
  check(host: string, address: string): void {
    const kind = this.kindOf(address);
    if (kind) throw new AddressNotAllowedError(host, address, kind);
  }

  /** An IP literal in a URL is connected to without a DNS lookup, so it is checked on its own. */
  checkLiteralHost(url: string): void {
    const host = bareHost(url);
    if (isIP(host)) this.check(host, host);
  }

  /**
   * A `lookup` for sockets: every address a name resolves to is checked when the connection is made, so
   * a redirect to another host, or a name that answers differently the second time (DNS rebinding), is
   * refused as well. One refused address refuses the name.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      try {
        for (const { address } of addresses) this.check(hostname, address);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '', 0);
      }
      if ((options as LookupOptions).all) return callback(null, addresses);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  /**
   * Resolves a URL's host and checks every address before the request leaves through something that
   * connects on its own (a proxy, yt-dlp). It cannot see what that does later (its redirects): the
   * socket-level lookup is the one that covers those.
   */
  async checkUrl(url: string): Promise<void> {
    const host = bareHost(url);
    if (isIP(host)) return this.check(host, host);
    for (const { address } of await dnsLookupAsync(host, { all: true })) this.check(host, address);
  }
}
