/**
 * The rate limit of the provider's webhook endpoint: refused requests count, signed ones do not.
 *
 * Why not the API's per-address limit (VOLTBILL_RATE_LIMIT_PER_IP, 600 a minute): a card provider sends several
 * events per payment from a handful of addresses. At 100 paid sessions/s, Stripe's three events per session are
 * 18,000 requests a minute from about a dozen addresses, so that limit would answer most of them 429, and the
 * provider would retry them for days and finally disable the endpoint. A request whose signature verifies can only
 * come from the provider (a replay inside the signature's tolerance is a duplicate event id and changes nothing), so
 * it is not limited. A request that is refused (no or bad signature, stale timestamp, malformed, unknown provider)
 * counts against its address. Once an address has been refused `maxRefusalsPerMinute` times
 * (VOLTBILL_RATE_LIMIT_PER_IP) in the current clock minute, its further refusals are answered 429 instead of 400 until
 * the minute ends. Every request is verified first, and a signed one is never refused: a provider sends every
 * account's events from the same addresses, so anyone could otherwise point their own provider account at this
 * endpoint and get the real events refused. Counted in this node's memory (a refusal costs one HMAC and no database
 * work); IPv6 addresses count by their /64, which one host usually holds whole, so cycling through it gains nothing.
 */
import { createMemoryRateCounter } from '../auth/rate-counter.ts';

const WINDOW_MS = 60_000;
/** Addresses tracked at most (the counter drops finished windows first): bounds memory under a spoofed flood. */
const MAX_TRACKED_ADDRESSES = 10_000;

export type WebhookRefusalGate = {
  /** Counts one refused request from `address`: the seconds to wait when it is over its refusals (answer 429), else 0. */
  refused(address: string, now: Date): Promise<number>;
};

export function createWebhookRefusalGate(maxRefusalsPerMinute: number): WebhookRefusalGate {
  const counter = createMemoryRateCounter(MAX_TRACKED_ADDRESSES);
  return {
    async refused(address, now) {
      const { hits, resetInMs } = await counter.hit(addressKey(address), WINDOW_MS, now);
      if (hits <= maxRefusalsPerMinute) return 0;
      return Math.max(1, Math.ceil(resetInMs / 1000));
    },
  };
}

/** An IPv4 address as it is; an IPv6 address by its first 64 bits (the network a single host is given). */
export function addressKey(address: string): string {
  if (!address.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
