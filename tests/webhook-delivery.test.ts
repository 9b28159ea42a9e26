/**
 * Webhook delivery without a database: the SSRF guard (URLs refused at save time, resolved
 * addresses refused at connect time) and signed delivery attempts against a real HTTP receiver on
 * loopback, which is reachable only because the tests put 127.0.0.1 in the allow list.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import { hostname } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, isSuccess, MAX_RESPONSE_BYTES, newSecret } from '../server/webhooks/deliver.ts';
import {
  type AllowList,
  checkWebhookUrl,
  guardedLookup,
  parseAllowList,
  WEBHOOK_TARGET_FORBIDDEN,
} from '../server/webhooks/ssrf.ts';

const emptyAllow = parseAllowList(undefined);
const loopbackAllow = parseAllowList('127.0.0.1');

describe('checkWebhookUrl', () => {
  it.each([
    'http://127.0.0.1/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://sub.localhost/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://0.0.0.0/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://017700000001/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://[fec0::1]/',
    'http://100.64.0.1/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    'http://198.18.0.1/',
    'http://240.0.0.1/',
    'http://[2002:c0a8:101::1]/', // 6to4 embedding 192.168.1.1
    'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', // Teredo, client 127.0.0.1
    'http://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
    'http://[2001:db8::1]/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'ftp://example.com/',
    'javascript:alert(1)',
    'http://user:pass@example.com/',
    'https://token@example.com/',
    'not-a-url',
    '',
  ])('refuses %s', (url) => {
    const reason = checkWebhookUrl(url, emptyAllow);
    expect(reason).toBeTypeOf('string');
    expect(reason).not.toBe('');
  });

  it.each([
    'https://example.com/hook',
    'http://93.184.216.34/x',
    'https://[2606:4700:4700::1111]/hook',
    'http://[2002:5db8:d822::1]/', // 6to4 embedding 93.184.216.34
    'http://internal.example.com:8443/hook', // a name: checked after DNS, at delivery
  ])('accepts %s', (url) => {
    expect(checkWebhookUrl(url, emptyAllow)).toBeUndefined();
  });

  it('says why and how to allow it', () => {
    expect(checkWebhookUrl('http://0x7f.1/', emptyAllow)).toMatch(/127\.0\.0\.1 is a loopback address.*ALLOW_HOSTS/);
    expect(checkWebhookUrl('http://169.254.169.254/', emptyAllow)).toMatch(/link-local/);
    expect(checkWebhookUrl('ftp://example.com/', emptyAllow)).toMatch(/scheme ftp:/);
  });

  it('accepts what the allow list names: addresses, CIDR ranges, hostnames', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/', loopbackAllow)).toBeUndefined();
    expect(checkWebhookUrl('http://127.1:8080/', loopbackAllow)).toBeUndefined();
    expect(checkWebhookUrl('http://[::ffff:127.0.0.1]/', loopbackAllow)).toBeUndefined();
    expect(checkWebhookUrl('http://127.0.0.2/', loopbackAllow)).toBeTypeOf('string');
    const ranges = parseAllowList(' 10.0.0.0/8 , [fd00::]/8, [::1], Hooks.Localhost ');
    expect(checkWebhookUrl('http://10.200.3.4/', ranges)).toBeUndefined();
    expect(checkWebhookUrl('http://[fd12::3]/', ranges)).toBeUndefined();
    expect(checkWebhookUrl('http://[::1]:9000/', ranges)).toBeUndefined();
    expect(checkWebhookUrl('http://hooks.localhost/', ranges)).toBeUndefined();
    expect(checkWebhookUrl('http://other.localhost/', ranges)).toBeTypeOf('string');
    expect(checkWebhookUrl('http://192.168.0.1/', ranges)).toBeTypeOf('string');
    expect(checkWebhookUrl('file:///etc/passwd', ranges)).toBeTypeOf('string');
  });

  it('refuses a mistyped allow list entry instead of ignoring it', () => {
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/XRM_WEBHOOK_ALLOW_HOSTS/);
    expect(() => parseAllowList('example.com:8080')).toThrow(/XRM_WEBHOOK_ALLOW_HOSTS/);
    expect(() => parseAllowList('http://example.com/')).toThrow(/XRM_WEBHOOK_ALLOW_HOSTS/);
    expect(parseAllowList(' , ').ranges).toHaveLength(0);
  });
});

type LookupAnswer = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookupWith(lookup: LookupFunction, host: string, all: boolean): Promise<LookupAnswer> {
  return new Promise((resolve) => {
    lookup(host, all ? { all: true } : {}, (error, address, family) => resolve({ error, address, family }));
  });
}

/** The machine's own name, when it resolves to loopback only (it does in /etc/hosts on most hosts). */
async function loopbackHostname(): Promise<string | undefined> {
  const name = hostname();
  try {
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      dnsLookup(name, { all: true }, (error, found) => (error ? reject(error) : resolve(found))),
    );
    const loopback = addresses.every(({ address }) => address.startsWith('127.') || address === '::1');
    return addresses.length > 0 && loopback && name !== 'localhost' ? name : undefined;
  } catch {
    return undefined;
  }
}
const machineName = await loopbackHostname();

describe('guardedLookup', () => {
  it.each([true, false])('refuses a name resolving to loopback (all: %s)', async (all) => {
    const { error } = await lookupWith(guardedLookup(emptyAllow), 'localhost', all);
    expect(error?.code).toBe(WEBHOOK_TARGET_FORBIDDEN);
    expect(error?.message).toMatch(/localhost resolves to .*loopback/);
  });

  it('answers the checked addresses when they are allowed, in the form asked for', async () => {
    const allow = parseAllowList('127.0.0.1, ::1');
    const all = await lookupWith(guardedLookup(allow), 'localhost', true);
    expect(all.error).toBeNull();
    expect(Array.isArray(all.address)).toBe(true);
    for (const { address } of all.address as LookupAddress[]) expect(['127.0.0.1', '::1']).toContain(address);
    const one = await lookupWith(guardedLookup(allow), 'localhost', false);
    expect(one.error).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(one.address);
    expect([4, 6]).toContain(one.family);
  });

  it('allows whatever an allowed hostname resolves to', async () => {
    const { error, address } = await lookupWith(guardedLookup(parseAllowList('LOCALHOST')), 'localhost', false);
    expect(error).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(address);
  });

  it('answers a public address', async () => {
    const { error, address, family } = await lookupWith(guardedLookup(emptyAllow), '93.184.216.34', false);
    expect(error).toBeNull();
    expect(address).toBe('93.184.216.34');
    expect(family).toBe(4);
  });

  it('passes a resolver error through', async () => {
    const { error } = await lookupWith(guardedLookup(emptyAllow), 'no-such-host.invalid', true);
    expect(error?.code).not.toBe(WEBHOOK_TARGET_FORBIDDEN);
    expect(error).toBeInstanceOf(Error);
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('deliver', () => {
  let server: Server;
  let base: string;
  let port: number;
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const closedBig: Array<() => void> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (path === '/ok') res.writeHead(204).end();
        else if (path === '/fail') res.writeHead(500).end('boom');
        else if (path === '/gone') res.writeHead(410).end();
        else if (path === '/redirect') res.writeHead(302, { location: `${base}/target` }).end();
        else if (path === '/busy') res.writeHead(429, { 'retry-after': '7' }).end();
        else if (path === '/busy-date') {
          res.writeHead(503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }).end();
        } else if (path === '/big') {
          // far more than is read, and never finished: the client has to hang up
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write(Buffer.alloc(MAX_RESPONSE_BYTES * 4, 'x'));
          res.on('close', () => closedBig.shift()?.());
        } else if (path === '/hang') {
          // never answers
        } else res.writeHead(200).end('ok');
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const attempt = (path: string, overrides: { secrets?: string[]; timeoutMs?: number; allow?: AllowList } = {}) =>
    deliver({
      url: `${base}${path}`,
      msgId: 'msg_2ab3cd',
      timestamp: new Date(),
      body: JSON.stringify({ type: 'record.created', data: { id: 'a1', name: 'Zoë' } }),
      secrets: overrides.secrets ?? [newSecret()],
      timeoutMs: overrides.timeoutMs ?? 2_000,
      allow: overrides.allow ?? loopbackAllow,
    });

  const last = (path: string): Received => {
    const found = received.filter((r) => r.path === path).at(-1);
    if (!found) throw new Error(`the receiver got nothing on ${path}`);
    return found;
  };

  it('delivers a request the receiver can verify', async () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const timestamp = new Date();
    const body = JSON.stringify({ type: 'record.created', data: { id: 'a1' } });
    const result = await deliver({
      url: `${base}/ok`,
      msgId: 'msg_1',
      timestamp,
      body,
      secrets: [secret],
      timeoutMs: 2_000,
      allow: loopbackAllow,
    });
    expect(result).toEqual({ status: 204, durationMs: expect.any(Number) });
    expect(isSuccess(result.status)).toBe(true);
    const got = last('/ok');
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('xrm-platform-webhooks/1');
    expect(got.headers['webhook-id']).toBe('msg_1');
    expect(got.headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(got.body, got.headers as Record<string, string>)).toThrow();
    // tampering with the body breaks the signature
    const tampered = got.body.replace('a1', 'a2');
    expect(() => new Webhook(secret).verify(tampered, got.headers as Record<string, string>)).toThrow();
  });

  it('signs with every secret while one is rotated, newest first', async () => {
    const [next, previous] = [newSecret(), newSecret()];
    const result = await attempt('/ok', { secrets: [next, previous] });
    expect(result.status).toBe(204);
    const got = last('/ok');
    const signatures = String(got.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    const ts = new Date(Number(got.headers['webhook-timestamp']) * 1000);
    expect(signatures[0]).toBe(new Webhook(next).sign('msg_2ab3cd', ts, got.body));
    expect(signatures[1]).toBe(new Webhook(previous).sign('msg_2ab3cd', ts, got.body));
    for (const secret of [next, previous]) {
      expect(() => new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
    }
  });

  it('reports the status of a failing receiver', async () => {
    const failed = await attempt('/fail');
    expect(failed.status).toBe(500);
    expect(failed.error).toBeUndefined();
    expect(isSuccess(failed.status)).toBe(false);
    const gone = await attempt('/gone');
    expect(gone.status).toBe(410);
    expect(isSuccess(gone.status)).toBe(false);
  });

  it('does not follow a redirect', async () => {
    const result = await attempt('/redirect');
    expect(result.status).toBe(302);
    expect(isSuccess(result.status)).toBe(false);
    expect(received.some((r) => r.path === '/target')).toBe(false);
  });

  it('reads Retry-After, in seconds or as a date', async () => {
    const busy = await attempt('/busy');
    expect(busy).toMatchObject({ status: 429, retryAfterSeconds: 7 });
    const dated = await attempt('/busy-date');
    expect(dated.status).toBe(503);
    expect(dated.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(dated.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect((await attempt('/ok')).retryAfterSeconds).toBeUndefined();
  });

  it('times out on a receiver that never answers', async () => {
    const result = await attempt('/hang', { timeoutMs: 300 });
    expect(result.status).toBeUndefined();
    expect(result.error).toBe('timed out after 300 ms');
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(1_500);
  });

  it('hangs up on a response body beyond 64 KiB', async () => {
    const hungUp = new Promise<void>((resolve) => closedBig.push(resolve));
    const result = await attempt('/big', { timeoutMs: 3_000 });
    expect(result.status).toBe(200);
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeLessThan(2_000);
    await hungUp;
  });

  it('reports a network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await deliver({
      url: `http://127.0.0.1:${deadPort}/`,
      msgId: 'msg_dead',
      timestamp: new Date(),
      body: '{}',
      secrets: [newSecret()],
      timeoutMs: 2_000,
      allow: loopbackAllow,
    });
    expect(result.status).toBeUndefined();
    expect(result.forbidden).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('refuses a forbidden target without connecting', async () => {
    const before = received.length;
    const result = await attempt('/ok', { allow: emptyAllow });
    expect(result).toMatchObject({ forbidden: true, error: expect.stringMatching(/127\.0\.0\.1 is a loopback/) });
    expect(result.status).toBeUndefined();
    const byName = await deliver({
      url: `http://localhost:${port}/ok`,
      msgId: 'msg_local',
      timestamp: new Date(),
      body: '{}',
      secrets: [newSecret()],
      timeoutMs: 2_000,
      allow: emptyAllow,
    });
    expect(byName).toMatchObject({ forbidden: true, error: expect.stringMatching(/localhost is not allowed/) });
    expect(received.length).toBe(before);
  });

  it('delivers to localhost when the allow list names it', async () => {
    const result = await deliver({
      url: `http://localhost:${port}/ok`,
      msgId: 'msg_local',
      timestamp: new Date(),
      body: '{}',
      secrets: [newSecret()],
      timeoutMs: 2_000,
      allow: parseAllowList('localhost'),
    });
    expect(result.status).toBe(204);
  });

  // a required leg: the machine's name is in /etc/hosts on Debian (127.0.1.1); without it these fail, not skip
  describe(`a name resolving to loopback (${machineName ?? 'none found: add this host to /etc/hosts'})`, () => {
    const viaName = (allow: AllowList) =>
      deliver({
        url: `http://${machineName ?? 'no-loopback-name.invalid'}:${port}/ok`,
        msgId: 'msg_dns',
        timestamp: new Date(),
        body: '{}',
        secrets: [newSecret()],
        timeoutMs: 2_000,
        allow,
      });

    it('passes the save-time check but is refused after DNS, before connecting', async () => {
      expect(checkWebhookUrl(`http://${machineName}:${port}/ok`, emptyAllow)).toBeUndefined();
      const before = received.length;
      const result = await viaName(emptyAllow);
      expect(result.forbidden).toBe(true);
      expect(result.error).toMatch(/resolves to (127\.\d+\.\d+\.\d+|::1), which is a loopback address/);
      expect(received.length).toBe(before);
    });

    it('connects when the resolved address or the name is allowed', async () => {
      expect((await viaName(parseAllowList('127.0.0.0/8, ::1'))).status).toBe(204);
      expect((await viaName(parseAllowList(machineName))).status).toBe(204);
    });
  });
});
