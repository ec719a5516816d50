/**
 * Hostile OCPP-J frames for the protocol fuzzer, drawn from a seeded PRNG so that a run is repeatable: wrong types,
 * huge numbers, deep nesting, invalid UTF-8, oversized frames, unknown actions, wrong message type ids, CALLs not
 * shaped [2, id, action, payload], CALLRESULTs for unknown ids and transaction messages out of order or for
 * transactions that do not exist.
 */
import { demoIdTag } from '../../src/seed/seed-demo.ts';

export type Protocol = 'ocpp1.6' | 'ocpp2.0.1';

/** mulberry32: tiny, fast, good enough to pick fuzz cases; the same seed gives the same frames. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
const int = (rng: Rng, max: number) => Math.floor(rng() * max);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T;

/** One frame to send. `callId` is set when the frame is a well-formed CALL the server must answer under that id. */
export type FuzzFrame = {
  readonly kind: string;
  readonly data: string | Buffer;
  readonly callId?: string;
};

/** Values of the wrong type or out of every sane range, substituted into otherwise valid payloads. */
const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  '',
  '9'.repeat(400),
  'x'.repeat(5000),
  '\u0000\ud800\udfff\u202e',
  '<script>',
  "'; DROP TABLE sessions; --",
  [],
  [1, 2, 3],
  {},
  { __proto__: { polluted: true } },
  '2026-13-45T99:99:99Z',
  '1970-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
];

/** A payload the server accepts for each action, which the mutators then break. */
function validPayload(protocol: Protocol, action: string, station: number, rng: Rng): Record<string, unknown> {
  const now = new Date().toISOString();
  const idTag = demoIdTag(1 + int(rng, 10));
  if (protocol === 'ocpp1.6') {
    switch (action) {
      case 'BootNotification':
        return { chargePointVendor: 'Fuzz', chargePointModel: 'F1' };
      case 'StatusNotification':
        return { connectorId: 1, errorCode: 'NoError', status: pick(rng, ['Available', 'Charging', 'Faulted']) };
      case 'Authorize':
        return { idTag };
      case 'StartTransaction':
        return { connectorId: 1 + int(rng, 2), idTag, meterStart: int(rng, 100_000), timestamp: now };
      case 'StopTransaction':
        return { transactionId: int(rng, 2_000_000_000), meterStop: int(rng, 1_000_000), timestamp: now };
      case 'MeterValues':
        return {
          connectorId: 1,
          transactionId: int(rng, 1000),
          meterValue: [{ timestamp: now, sampledValue: [{ value: String(int(rng, 1e6)) }] }],
        };
      case 'DataTransfer':
        return { vendorId: 'fuzz', data: 'x' };
      default:
        return {};
    }
  }
  switch (action) {
    case 'BootNotification':
      return { reason: 'PowerUp', chargingStation: { model: 'F1', vendorName: 'Fuzz' } };
    case 'StatusNotification':
      return { timestamp: now, connectorStatus: 'Available', evseId: 1, connectorId: 1 };
    case 'Authorize':
      return { idToken: { idToken: idTag, type: 'ISO14443' } };
    case 'TransactionEvent':
      return {
        eventType: pick(rng, ['Started', 'Updated', 'Ended']),
        timestamp: now,
        triggerReason: pick(rng, ['Authorized', 'MeterValuePeriodic', 'StopAuthorized', 'EVDeparted']),
        seqNo: pick(rng, [0, 1, 7, 2_147_483_647]),
        transactionInfo: { transactionId: `fuzz-${station}-${int(rng, 50)}` },
        idToken: { idToken: idTag, type: 'ISO14443' },
        evse: { id: 1, connectorId: 1 },
        meterValue: [
          {
            timestamp: now,
            sampledValue: [{ value: int(rng, 1e6), measurand: 'Energy.Active.Import.Register' }],
          },
        ],
      };
    case 'MeterValues':
      return { evseId: 1, meterValue: [{ timestamp: now, sampledValue: [{ value: int(rng, 1e6) }] }] };
    case 'DataTransfer':
      return { vendorId: 'fuzz', data: 'x' };
    default:
      return {};
  }
}

const ACTIONS: Record<Protocol, readonly string[]> = {
  'ocpp1.6': [
    'BootNotification',
    'Heartbeat',
    'StatusNotification',
    'Authorize',
    'StartTransaction',
    'StopTransaction',
    'MeterValues',
    'DataTransfer',
  ],
  'ocpp2.0.1': [
    'BootNotification',
    'Heartbeat',
    'StatusNotification',
    'Authorize',
    'TransactionEvent',
    'MeterValues',
    'DataTransfer',
  ],
};

/** Replaces one value somewhere in the payload (depth-first, random path) with a hostile one. */
function mutate(value: unknown, rng: Rng): unknown {
  if (Array.isArray(value) && value.length > 0 && rng() < 0.7) {
    const copy = [...value];
    const i = int(rng, copy.length);
    copy[i] = mutate(copy[i], rng);
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && rng() < 0.8) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length === 0 || rng() < 0.1) {
      copy[pick(rng, ['extra', 'constructor', '__proto__', 'transactionId'])] = pick(rng, HOSTILE_VALUES);
      return copy;
    }
    const key = pick(rng, keys);
    if (rng() < 0.15) delete copy[key];
    else copy[key] = mutate(copy[key], rng);
    return copy;
  }
  return pick(rng, HOSTILE_VALUES);
}

function deepNesting(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export type FrameGenerator = { next(): FuzzFrame };

/** A generator for one connection; `station` makes message and transaction ids distinct between connections. */
export function frameGenerator(protocol: Protocol, station: number, rng: Rng, maxFrameBytes: number): FrameGenerator {
  let counter = 0;
  const newId = () => `f${station}-${(counter++).toString(36)}`;
  const call = (kind: string, action: string, payload: unknown): FuzzFrame => {
    const id = newId();
    return { kind, data: JSON.stringify([2, id, action, payload]), callId: id };
  };
  const cases: readonly [number, () => FuzzFrame][] = [
    [
      20,
      () => {
        const action = pick(rng, ACTIONS[protocol]);
        return call('mutated-payload', action, mutate(validPayload(protocol, action, station, rng), rng));
      },
    ],
    [
      8,
      () => {
        // Valid payloads for transaction messages: stops and events for transactions that do not exist or out of order.
        const action = protocol === 'ocpp1.6' ? pick(rng, ['StopTransaction', 'MeterValues']) : 'TransactionEvent';
        return call('transaction-out-of-order', action, validPayload(protocol, action, station, rng));
      },
    ],
    [6, () => call('valid', pick(rng, ACTIONS[protocol]), {})],
    [4, () => call('heartbeat', 'Heartbeat', {})],
    [6, () => call('unknown-action', pick(rng, ['Fuzz', 'heartbeat', '', 'X'.repeat(300), '__proto__']), {})],
    [5, () => call('wrong-payload-type', pick(rng, ACTIONS[protocol]), pick(rng, [null, 1, 'x', [], true]))],
    [
      6,
      () => ({
        kind: 'wrong-type-id',
        data: JSON.stringify([pick(rng, [0, 1, 5, 7, 99, -1, 2.5, 1e308]), newId(), 'Heartbeat', {}]),
      }),
    ],
    [
      4,
      () => ({ kind: 'type-id-not-number', data: JSON.stringify([pick(rng, ['2', null, [], {}]), newId(), 'X', {}]) }),
    ],
    [
      4,
      () => ({
        // A CALL whose action is not a string, with no payload, or with an element too many.
        kind: 'bad-call-shape',
        data: JSON.stringify(
          pick(rng, [
            [2, newId(), pick(rng, [5, null, {}, [], true])],
            [2, newId(), pick(rng, [5, null, {}, [], true]), {}],
            [2, newId()],
            [2, newId(), 'Heartbeat'],
            [2, newId(), 'Heartbeat', {}, 1],
          ]),
        ),
      }),
    ],
    [
      6,
      () => ({ kind: 'callresult-unknown-id', data: JSON.stringify([3, `nope-${newId()}`, { status: 'Accepted' }]) }),
    ],
    [
      3,
      () => ({
        kind: 'callerror-unknown-id',
        data: JSON.stringify([4, `nope-${newId()}`, 'GenericError', 'fuzz', {}]),
      }),
    ],
    [
      5,
      () => ({
        kind: 'bad-message-id',
        data: JSON.stringify([2, pick(rng, ['', 'x'.repeat(37), 12, null]), 'Heartbeat', {}]),
      }),
    ],
    [
      5,
      () => ({ kind: 'not-json', data: pick(rng, ['[2,"a",', '{', 'null', '"x"', '[]', '[2]', 'garbage', '1e999']) }),
    ],
    [
      4,
      () => {
        const id = newId();
        const depth = 1000 + int(rng, Math.max(1, Math.floor(maxFrameBytes / 2) - 1100));
        const nested = rng() < 0.5 ? deepNesting(depth) : deepObject(Math.floor(depth / 3));
        return {
          kind: 'deep-nesting',
          data: `[2,"${id}","DataTransfer",{"vendorId":"x","data":${nested}}]`,
          callId: id,
        };
      },
    ],
    [
      3,
      () => {
        const id = newId();
        const pad = 'x'.repeat(maxFrameBytes + 1 + int(rng, maxFrameBytes));
        return { kind: 'oversized', data: `[2,"${id}","DataTransfer",{"vendorId":"x","data":"${pad}"}]`, callId: id };
      },
    ],
    [
      4,
      () => {
        const id = newId();
        const number = pick(rng, ['1e400', '-1e400', '123456789012345678901234567890', '-0', '1E-400']);
        return {
          kind: 'huge-number',
          data: `[2,"${id}","${protocol === 'ocpp1.6' ? 'StopTransaction' : 'MeterValues'}",{"transactionId":${number},"meterStop":${number},"timestamp":"2026-01-01T00:00:00Z","evseId":${number},"meterValue":[]}]`,
          callId: id,
        };
      },
    ],
    [
      2,
      () => {
        const id = newId();
        const payload = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
        return {
          kind: 'prototype-pollution',
          data: `[2,"${id}","${pick(rng, ACTIONS[protocol])}",${payload}]`,
          callId: id,
        };
      },
    ],
    [
      1,
      () => ({
        // Beyond the WebSocket layer's hard ceiling (1 MiB or 4x the OCPP limit): ws closes the connection (1009).
        kind: 'over-ws-ceiling',
        data: `[2,"${newId()}","DataTransfer",{"vendorId":"x","data":"${'x'.repeat(Math.max(maxFrameBytes * 4, 1024 * 1024) + 1)}"}]`,
      }),
    ],
    [
      1,
      () => {
        // Invalid UTF-8 in a text frame: the WebSocket layer must close the connection (1007), nothing else.
        const id = newId();
        const prefix = Buffer.from(`[2,"${id}","DataTransfer",{"vendorId":"`);
        const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
        return { kind: 'invalid-utf8', data: Buffer.concat([prefix, bad, Buffer.from('"}]')]) };
      },
    ],
  ];
  const totalWeight = cases.reduce((sum, [weight]) => sum + weight, 0);
  return {
    next() {
      let roll = rng() * totalWeight;
      for (const [weight, make] of cases) {
        roll -= weight;
        if (roll < 0) return make();
      }
      return (cases[0] as [number, () => FuzzFrame])[1]();
    },
  };
}

/** The BootNotification a fuzz connection sends first, so that the station is accepted and its CALLs processed. */
export function bootFrame(protocol: Protocol, id: string): string {
  const payload = validPayload(protocol, 'BootNotification', 0, () => 0);
  return JSON.stringify([2, id, 'BootNotification', payload]);
}
