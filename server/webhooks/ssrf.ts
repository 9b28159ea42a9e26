/**
 * The SSRF guard for webhook targets. A webhook URL is chosen by a client, and the server then sends
 * requests to it from inside the network: without a guard that is a way to reach loopback services,
 * the cloud metadata endpoint (169.254.169.254) or anything on a private network. Only public
 * unicast addresses are allowed, unless an operator lists a host, address or CIDR range in
 * XRM_WEBHOOK_ALLOW_HOSTS.
 *
 * Checked twice: `checkWebhookUrl` when a URL is saved (scheme, credentials, literal IP hosts, in
 * their WHATWG-normalised form so `http://2130706433/` is 127.0.0.1), and `guardedLookup` when a
 * delivery connects: it resolves the name, refuses when any address is not allowed, and hands the
 * checked addresses to the socket, so a DNS answer cannot change between the check and the connect.
 * Addresses are classified by ipaddr.js, not by hand-written ranges.
 */
import { type LookupAddress, type LookupOptions, lookup as dnsLookup } from 'node:dns';
import { isIPv4, isIPv6, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The `code` of the error a refused lookup fails with. */
export const WEBHOOK_TARGET_FORBIDDEN = 'XRM_ERR_WEBHOOK_TARGET_FORBIDDEN';

/** The environment variable an allow list is read from (named in refusal messages). */
const ALLOW_ENV = 'XRM_WEBHOOK_ALLOW_HOSTS';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = readonly [Address, number];

/** Targets allowed although they are not public, parsed from XRM_WEBHOOK_ALLOW_HOSTS. */
export interface AllowList {
  /** Hostnames allowed whatever they resolve to: lower-case, punycode, without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  /** Addresses and CIDR ranges (an address is a range of full length); IPv4-mapped ones as IPv4. */
  readonly ranges: readonly Range[];
}

/** The error a refused lookup fails with. */
export class WebhookTargetForbidden extends Error {
  readonly code = WEBHOOK_TARGET_FORBIDDEN;
  override readonly name = 'WebhookTargetForbidden';
}

/**
 * Parses XRM_WEBHOOK_ALLOW_HOSTS: comma-separated hostnames (exact, case-insensitive), IP addresses
 * (IPv6 with or without brackets) and CIDR ranges such as `10.0.0.0/8`. Throws on an entry that is
 * none of these, so a typo in the configuration is not silently ignored.
 */
export function parseAllowList(value: string | undefined): AllowList {
  const hosts = new Set<string>();
  const ranges: Range[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const parsed = parseEntry(entry);
    if (parsed === undefined) {
      throw new Error(`${ALLOW_ENV}: "${entry}" is not a hostname, an IP address or a CIDR range`);
    }
    if (typeof parsed === 'string') hosts.add(parsed);
    else ranges.push(parsed);
  }
  return { hosts, ranges };
}

function parseEntry(entry: string): string | Range | undefined {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const base = unbracket(entry.slice(0, slash));
    const bits = entry.slice(slash + 1);
    const fourPart = ipaddr.IPv4.isValidFourPartDecimal(base);
    if (!/^\d{1,3}$/.test(bits) || !(fourPart || isIPv6(base))) return undefined;
    const cidr = `${base}/${bits}`;
    return ipaddr.isValidCIDR(cidr) ? normaliseRange(ipaddr.parseCIDR(cidr)) : undefined;
  }
  const bare = unbracket(entry);
  if (isIPv6(bare) && ipaddr.IPv6.isValid(bare)) return normaliseRange([ipaddr.parse(bare), 128]);
  // anything else is read the way a URL's host is, so `127.1` here means what it means in a URL
  let url: URL;
  try {
    url = new URL(`http://${entry}/`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.port || url.pathname !== '/' || url.search || url.hash) return undefined;
  if (isIPv4(url.hostname)) return [ipaddr.parse(url.hostname), 32];
  return normaliseHostname(url.hostname) || undefined;
}

/** An IPv4-mapped IPv6 range is kept as the IPv4 range it maps, as addresses are compared that way. */
function normaliseRange([address, bits]: [Address, number]): Range {
  if (isV6(address) && address.isIPv4MappedAddress() && bits >= 96) {
    return [address.toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

function isV6(address: Address): address is ipaddr.IPv6 {
  return address.kind() === 'ipv6';
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normaliseHostname(host: string): string {
  return host.toLowerCase().replace(/\.+$/, '');
}

/**
 * Checks a webhook URL when it is saved: a human-readable reason when it is refused, undefined when
 * it is acceptable. A hostname other than localhost passes here; what it resolves to is checked
 * when a delivery connects (`guardedLookup`).
 */
export function checkWebhookUrl(url: string, allow: AllowList): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `the scheme ${parsed.protocol} is not allowed; use http or https`;
  }
  if (parsed.username !== '' || parsed.password !== '') return 'credentials in the URL are not allowed';
  const host = parsed.hostname;
  if (host.startsWith('[') || isIPv4(host)) {
    const address = unbracket(host);
    const reason = addressRefusal(address, allow);
    return reason === undefined ? undefined : `${address} is ${reason}; ${allowHint(address)}`;
  }
  const name = normaliseHostname(host);
  if (allow.hosts.has(name)) return undefined;
  if (name === 'localhost' || name.endsWith('.localhost')) return `${name} is not allowed; ${allowHint(name)}`;
  return undefined;
}

function allowHint(target: string): string {
  return `add ${target} to ${ALLOW_ENV} to allow it`;
}

/**
 * A `lookup` for `http.request`/`https.request` (Node's `dns.lookup` callback signature): resolves
 * every address of the name and fails with `WebhookTargetForbidden` when any of them is not
 * allowed, unless the name itself is in the allow list. Answers in the form asked for: all the
 * (checked) addresses when `options.all` is set, as Node 20 does for happy eyeballs, otherwise the
 * first one.
 */
export function guardedLookup(allow: AllowList): LookupFunction {
  return (hostname, options, callback) => {
    // dns.lookup also accepts a bare family number; be as lenient in case a caller passes one
    const opts: LookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
    const fail = (error: NodeJS.ErrnoException): void => callback(error, opts.all ? [] : '');
    const answer = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void => {
      const refusal = error ?? lookupRefusal(hostname, addresses, allow);
      if (refusal) fail(refusal);
      else if (opts.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    };
    try {
      dnsLookup(hostname, { ...opts, all: true }, answer);
    } catch (error) {
      process.nextTick(fail, error as NodeJS.ErrnoException);
    }
  };
}

/** The error a lookup answer is refused with, or undefined when every address may be connected to. */
function lookupRefusal(hostname: string, addresses: LookupAddress[], allow: AllowList): Error | undefined {
  if (addresses.length === 0) {
    return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  }
  if (allow.hosts.has(normaliseHostname(hostname))) return undefined;
  for (const { address } of addresses) {
    const reason = addressRefusal(address, allow);
    if (reason !== undefined) {
      return new WebhookTargetForbidden(`${hostname} resolves to ${address}, which is ${reason}`);
    }
  }
  return undefined;
}

/** Why an address may not be connected to, or undefined when it may (public, or in the allow list). */
function addressRefusal(text: string, allow: AllowList): string | undefined {
  if (!ipaddr.isValid(text)) return 'not an IP address';
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it maps
  const address = ipaddr.process(text);
  for (const [base, bits] of allow.ranges) {
    if (base.kind() === address.kind() && address.match(base, bits)) return undefined;
  }
  return nonPublicReason(address);
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private address',
  uniqueLocal: 'a unique-local address',
  reserved: 'a reserved address',
};

/** IPv6 global unicast, 2000::/3: anything outside it (other than what is handled below) is not public. */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
/** The well-known NAT64 prefix; its last 32 bits are an IPv4 address. */
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/** Why an address is not a public unicast address, or undefined when it is. */
function nonPublicReason(address: Address): string | undefined {
  if (!isV6(address)) {
    const range = address.range();
    return range === 'unicast' ? undefined : describeRange(range);
  }
  const range = address.range();
  const p = address.parts;
  switch (range) {
    case 'ipv4Mapped':
      return nonPublicReason(address.toIPv4Address());
    case 'rfc6145':
      return embedded(p[6], p[7]);
    case 'rfc6052':
      return address.match(NAT64) ? embedded(p[6], p[7]) : describeRange(range);
    case '6to4':
      return embedded(p[1], p[2]);
    case 'teredo':
      // the Teredo server's address, then the client's (stored inverted)
      return embedded(p[2], p[3]) ?? embedded(~p[6] & 0xffff, ~p[7] & 0xffff);
    case 'unicast':
      return address.match(GLOBAL_UNICAST) ? undefined : 'not a global unicast address';
    default:
      return describeRange(range);
  }
}

/** Judges an IPv4 address embedded in an IPv6 one (6to4, Teredo, NAT64) by itself. */
function embedded(high: number, low: number): string | undefined {
  const inner = new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const reason = nonPublicReason(inner);
  return reason === undefined ? undefined : `an address embedding ${inner.toString()}, ${reason}`;
}

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
}
