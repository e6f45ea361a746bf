// Which addresses Roster connects to on a client's behalf (a URL cohort's download, a webhook's
// delivery): public unicast addresses only, checked inside the socket's own DNS lookup.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

// Cloud instance-metadata endpoints. Most sit in ranges refused anyway; Azure's wire server
// (168.63.129.16) is a public-looking address, so the list is checked on its own.
const METADATA_ADDRESSES = new Set(
  ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16'].map((a) =>
    ipaddr.parse(a).toNormalizedString(),
  ),
);
const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  carrierGradeNat: 'carrier-grade NAT',
  reserved: 'reserved',
};
/**
 * Why Roster refuses to connect to an address, or undefined for a public unicast address. Anything
 * ipaddr.js does not class as plain unicast is refused (loopback, private, link-local, unique-local,
 * carrier-grade NAT, reserved, NAT64, 6to4, …), IPv4-mapped IPv6 is judged as the IPv4 it carries,
 * and the cloud metadata addresses are refused by name.
 */
export function addressRefusal(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return `a ${RANGE_NAMES[range] ?? `special-purpose (${range})`} address`;
  if (METADATA_ADDRESSES.has(parsed.toNormalizedString())) return 'a cloud metadata address';
  // ::a.b.c.d (deprecated IPv4-compatible form): never a public IPv6 host.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0))
    return 'an IPv4-compatible IPv6 address';
  return undefined;
}

/** The URL's host as an allowlist entry or an IP literal: lower case, IPv6 without brackets. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * A DNS lookup for a socket that refuses the connection when any address of the name is not public
 * (`refuse` words the error), so the address checked is the address connected to.
 */
export function guardedLookup(refuse: (hostname: string, reason: string) => Error): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family, hints: options.hints }, (error, addresses) => {
      if (error) return callback(error, '');
      for (const { address } of addresses) {
        const reason = addressRefusal(address);
        if (reason !== undefined) return callback(refuse(hostname, reason), '');
      }
      const first = addresses[0];
      if (first === undefined)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
