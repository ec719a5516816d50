/**
 * The OCPP endpoint: ws://HOST:PORT/ocpp/{stationId} and, with TLS configured, wss://HOST:TLS_PORT/ocpp/{stationId}.
 * Both protocol versions share it: the station offers subprotocols (ocpp2.0.1, ocpp1.6) and the gateway picks the
 * newest it also speaks. Built on ocpp-rpc in strict mode (every request is validated against the official JSON
 * schemas of its version before a handler sees it). On top of that the gateway enforces Voltbill's security and
 * limits: the station's security profile during the handshake (before any message is read), unauthenticated
 * connections per address, failed authentications per station and address, frame size, messages per second, bad
 * messages in a row, one request at a time per station; and it logs every frame.
 */

import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Kysely } from 'kysely';
import { createRPCError, RPCServer } from 'ocpp-rpc';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { Clock } from '../shared/clock.ts';
import { findStation } from '../stations/station-store.ts';
import { leanCallAnswerer } from './answer-call.ts';
import { CallThrottle, type ThrottleOutcome } from './call-throttle.ts';
import { describeDataException } from './data-error.ts';
import type { MessageLog } from './message-log.ts';
import { GUARD_ERROR_CODES, type GuardErrorCodes } from './protocol-errors.ts';
import { authenticateStation, transportOf } from './security/authenticate-station.ts';
import { FailureLimiter } from './security/failure-limiter.ts';
import { PendingConnections } from './security/pending-connections.ts';
import { createSecurityMetrics } from './security/security-metrics.ts';
import { type KnownStation, StationConnection } from './station-connection.ts';
import { StationQueue, StationQueueFull } from './station-queue.ts';
import { notAcceptedError, V16_ALLOWED_BEFORE_ACCEPTED, type V16Handler } from './v16/handlers.ts';
import { V201_ALLOWED_BEFORE_ACCEPTED } from './v201/handlers.ts';

type Handler = V16Handler;

export type GatewayLimits = {
  readonly maxFrameBytes: number;
  readonly maxBadMessages: number;
  readonly callTimeoutMs: number;
  /** Requests per second a station may send on average (bursts up to one second's worth). */
  readonly maxMessagesPerSecond?: number;
  /** Sockets per remote address that have not authenticated yet. */
  readonly maxPendingConnectionsPerAddress?: number;
  /** Failed authentications within authFailureWindowMs after which a station id, or an address, is refused. */
  readonly maxAuthFailuresPerStation?: number;
  readonly maxAuthFailuresPerAddress?: number;
  readonly authFailureWindowMs?: number;
};

export type GatewayDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly messageLog: MessageLog;
  readonly v16Handlers: Record<string, V16Handler>;
  /** Absent: the gateway speaks OCPP 1.6J only. */
  readonly v201Handlers?: Record<string, Handler>;
  readonly limits: GatewayLimits;
  /** Lowest security profile any station may connect with (0 allows unsecured stations: development only). */
  readonly minSecurityProfile?: number;
  /** PEM server certificate, key and the CA that issues station client certificates (profiles 2 and 3). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  /** Told when a station's connection here opens and closes (cluster presence, src/cluster/). */
  readonly presence?: StationPresenceHooks;
};

/** Connection events of a gateway; called outside the per-message path, once per connection. */
export type StationPresenceHooks = {
  connected(stationId: string, protocol: string): void;
  disconnected(stationId: string): void;
};

export class StationNotConnected extends Error {
  override name = 'StationNotConnected';
}

export type Gateway = {
  listen(port: number, host: string): Promise<number>;
  /** Starts the TLS endpoint (deps.tls must be set); resolves with its port. */
  listenTls(port: number, host: string): Promise<number>;
  close(): Promise<void>;
  connectedStations(): string[];
  /** The protocol a connected station speaks, or undefined when it is not connected to this node. */
  protocolOf(stationId: string): string | undefined;
  /** Sends a request to a connected station; throws StationNotConnected at once when it is not connected here. */
  call(stationId: string, method: string, params: Record<string, unknown>): Promise<unknown>;
  /** Closes a station's connection here (it connected to another node); false when it is not connected here. */
  disconnect(stationId: string, reason: string): Promise<boolean>;
};

/** Requests of one station that may wait behind the one being processed. */
const MAX_QUEUED_REQUESTS_PER_STATION = 16;
/** Requests of one station that may wait for its message rate (call-throttle.ts); more at once are refused. */
const MAX_THROTTLED_REQUESTS_PER_STATION = 16;
const STATION_ID_PATTERN = /^[A-Za-z0-9*._:-]{1,48}$/;
const OCPP_PATH = '/ocpp';
/** A handshake must complete within this time, so that half-open connections do not pile up. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

type RpcClient = {
  identity: string;
  protocol: string;
  session: { stationId: string; profile: number; known?: KnownStation };
  handshake: { remoteAddress?: string };
  handle(
    method: string,
    handler: (call: { messageId: string; params: Record<string, unknown> }) => Promise<unknown>,
  ): void;
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (event: never) => void): void;
  close(options: { code: number; reason: string; force?: boolean }): Promise<unknown>;
  sendRaw(text: string): void;
  _onMessage(buffer: Buffer): void;
  /** ocpp-rpc 2.x internals (lib/client.js): the CALL branch of `_onMessage`, after its parse. See guardFrames. */
  _onCall?(messageId: string, method: string, params: unknown): void;
  _options?: { deferPingsOnActivity?: boolean };
  _deferNextPing?(): void;
};

export function createGateway(deps: GatewayDeps): Gateway {
  const { logger, metrics, messageLog, limits } = deps;
  const protocols = deps.v201Handlers ? ['ocpp2.0.1', 'ocpp1.6'] : ['ocpp1.6'];
  const minProfile = deps.minSecurityProfile ?? 0;
  const security = createSecurityMetrics(metrics);
  const pending = new PendingConnections(limits.maxPendingConnectionsPerAddress ?? 10);
  const windowMs = limits.authFailureWindowMs ?? 300_000;
  const stationFailures = new FailureLimiter(limits.maxAuthFailuresPerStation ?? 10, windowMs);
  const addressFailures = new FailureLimiter(limits.maxAuthFailuresPerAddress ?? 20, windowMs);
  const server = new RPCServer({
    protocols,
    strictMode: true,
    callTimeoutMs: limits.callTimeoutMs,
    // Voltbill counts bad messages itself (see guardFrames); ocpp-rpc's own counter would miss oversized frames.
    maxBadMessages: Number.POSITIVE_INFINITY,
    // ws drops the connection (1009) on frames beyond this hard ceiling without reading them into memory;
    // frames between the configured limit and the ceiling are answered with an OCPP error instead.
    wssOptions: { maxPayload: Math.max(limits.maxFrameBytes * 4, 1024 * 1024) },
  });
  const connections = new Map<string, RpcClient>();
  const httpServers: HttpServer[] = [];

  server.auth(async (accept, reject, handshake) => {
    const request = handshake.request as IncomingMessage;
    const address = handshake.remoteAddress ?? 'unknown';
    const stationId = handshake.identity;
    const refuse = (status: number, reason: string, message: string) => {
      security.refused.inc({ reason });
      logger.warn({ stationId: stationId.slice(0, 48), address, reason }, `OCPP connection refused: ${message}`);
      reject(status, message);
    };
    if (handshake.endpoint !== OCPP_PATH || !STATION_ID_PATTERN.test(stationId)) {
      refuse(404, 'BadPath', 'use ws://host:port/ocpp/{stationId}');
      return;
    }
    const protocol = protocols.find((p) => handshake.protocols.has(p));
    if (!protocol) {
      refuse(400, 'NoCommonSubprotocol', `offer one of the subprotocols ${protocols.join(', ')}`);
      return;
    }
    const nowMs = deps.clock.now().getTime();
    if (addressFailures.blocked(address, nowMs) || stationFailures.blocked(stationId, nowMs)) {
      refuse(429, 'TooManyFailedAuthentications', 'too many failed authentications; try again later');
      return;
    }
    const row = await findStation(deps.db, stationId);
    const decision = await authenticateStation(row, handshake.password, transportOf(request.socket), minProfile);
    if (!decision.ok) {
      if (decision.countsAsFailure) {
        addressFailures.record(address, nowMs);
        if (row) stationFailures.record(stationId, nowMs);
      }
      refuse(decision.status, decision.reason, decision.message);
      return;
    }
    // A station that proves its identity starts afresh; an address keeps its count (it may serve an attacker).
    stationFailures.clear(stationId);
    pending.authenticated(request.socket as Socket);
    security.authenticated.inc({ profile: String(decision.profile), protocol });
    // The row just read goes along, so that the BootNotification that follows does not read it again.
    const known: KnownStation = { row, readAtMs: Date.now() };
    accept({ stationId, profile: decision.profile, known }, protocol);
  });

  server.on('client', (client: RpcClient) => {
    const stationId = client.session.stationId;
    const previous = connections.get(stationId);
    if (previous) {
      // The new connection has fully authenticated (server.auth ran before it existed): the station proved who it
      // is again, so the old socket is most likely half-dead. At profile 0 nothing is proven; see docs/ocpp.md.
      security.displaced.inc();
      logger.warn(
        { stationId, profile: client.session.profile, address: client.handshake.remoteAddress },
        'station authenticated on a new connection; closing its previous connection',
      );
      void previous.close({ code: 1000, reason: 'replaced by a new connection', force: true });
    }
    connections.set(stationId, client);
    metrics.connectedStations.set(connections.size);
    deps.presence?.connected(stationId, client.protocol);
    const station = new StationConnection(
      stationId,
      client.protocol,
      deps.db,
      (method, params) => client.call(method, params),
      client.session.known,
    );
    // Not kept for the connection's lifetime (a row per socket of a 10,000-station fleet).
    delete client.session.known;
    const queue = new StationQueue(MAX_QUEUED_REQUESTS_PER_STATION);
    const inboundLogged = new Map<string, Promise<void>>();
    const isV201 = client.protocol === 'ocpp2.0.1';
    const handlers = (isV201 ? deps.v201Handlers : deps.v16Handlers) ?? {};
    const allowedBeforeAccepted = isV201 ? V201_ALLOWED_BEFORE_ACCEPTED : V16_ALLOWED_BEFORE_ACCEPTED;
    // Message rates are about real time, so the throttle reads the wall clock, not the (possibly fixed) domain clock.
    const throttle = new CallThrottle(limits.maxMessagesPerSecond ?? 50, MAX_THROTTLED_REQUESTS_PER_STATION);
    let badMessages = 0;
    const countBad = (reason: string) => {
      badMessages++;
      logger.warn({ stationId, badMessages, reason }, 'bad OCPP message');
      if (badMessages > limits.maxBadMessages) {
        logger.warn({ stationId }, 'too many bad messages in a row; disconnecting');
        void client.close({ code: 1008, reason: 'too many bad messages' });
      }
    };
    guardFrames(client, {
      maxFrameBytes: limits.maxFrameBytes,
      codes: GUARD_ERROR_CODES[client.protocol] ?? (GUARD_ERROR_CODES['ocpp1.6'] as GuardErrorCodes),
      throttleCall: (dispatch) => {
        // Counted when a waiting request is dispatched, not when it starts waiting: a connection that closes drops
        // what waits, and those requests were never answered late (the station sends them again).
        let waited = false;
        const outcome = throttle.submit(() => {
          if (waited) security.throttled.inc();
          dispatch();
        });
        waited = outcome === 'waiting';
        if (outcome === 'refused') security.rateLimited.inc();
        return outcome;
      },
      onInbound: (text, messageId, parsed) => {
        const logged = messageLog.append({ stationId, direction: 'in', text, at: deps.clock.now(), parsed });
        logged.catch((error) => logger.error({ err: error, stationId }, 'could not log an inbound frame'));
        if (messageId !== undefined) {
          inboundLogged.set(messageId, logged);
          // Only a frame whose logging is still in flight needs its entry (its reply waits for it). A logged frame
          // drops it here, so that CALLs no handler ever runs (refused shapes or rates, unknown actions, schema
          // errors) do not grow the map for the connection's life; a failed log keeps it for its handler to see.
          logged.then(
            () => {
              if (inboundLogged.get(messageId) === logged) inboundLogged.delete(messageId);
            },
            () => undefined,
          );
        }
      },
      onRejected: (reply, reason) => {
        metrics.errors.inc({ code: reply[2] });
        countBad(reason);
      },
    });
    client.on('message', ({ message, outbound }: { message: string | Buffer; outbound: boolean }) => {
      if (!outbound) return;
      void messageLog
        .append({ stationId, direction: 'out', text: String(message), at: deps.clock.now() })
        .catch((error) => logger.error({ err: error, stationId }, 'could not log an outbound frame'));
    });
    client.on(
      'strictValidationFailure',
      ({ method, error, outbound }: { method: string; error: Error; outbound: boolean }) => {
        if (outbound) {
          logger.error({ stationId, method, err: error }, 'a message of ours failed schema validation');
          return;
        }
        countBad(`${method}: ${error.message}`);
      },
    );
    client.on('callError', ({ error, method }: { error: { rpcErrorCode?: string }; method: string }) => {
      metrics.errors.inc({ code: error.rpcErrorCode ?? 'GenericError' });
      if (error.rpcErrorCode === 'NotImplemented') countBad(`unknown action ${method}`);
    });
    client.on('badMessage', ({ error }: { error: Error }) => countBad(error.message));
    client.on('close', () => {
      throttle.close();
      if (connections.get(stationId) === client) {
        connections.delete(stationId);
        deps.presence?.disconnected(stationId);
      }
      metrics.connectedStations.set(connections.size);
      logger.info({ stationId }, 'station disconnected');
    });

    for (const [action, handler] of Object.entries(handlers)) {
      client.handle(action, async ({ messageId, params }) => {
        const startedAt = process.hrtime.bigint();
        metrics.messages.inc({ direction: 'in', action });
        try {
          return await queue.run(async () => {
            if (!allowedBeforeAccepted.has(action) && !(await station.isAccepted())) {
              throw notAcceptedError(stationId, station.registrationStatus);
            }
            const result = await handler(station, params);
            // The frame is durably logged before its reply leaves (group commit with other stations' frames).
            await inboundLogged.get(messageId);
            badMessages = 0;
            return result;
          });
        } catch (error) {
          if (error instanceof StationQueueFull) throw createRPCError('GenericError', error.message);
          if ((error as { rpcErrorCode?: string }).rpcErrorCode) throw error;
          const dataError = describeDataException(error);
          if (dataError !== undefined) {
            logger.warn({ err: error, stationId, action }, 'station sent a value the database cannot hold');
            throw createRPCError('PropertyConstraintViolation', dataError);
          }
          logger.error({ err: error, stationId, action }, 'handler failed');
          throw createRPCError('InternalError', 'the request could not be processed; retry later');
        } finally {
          inboundLogged.delete(messageId);
          metrics.handlerSeconds.observe({ action }, Number(process.hrtime.bigint() - startedAt) / 1e9);
        }
      });
    }
    logger.info({ stationId, protocol: client.protocol, profile: client.session.profile }, 'station connected');
  });

  /** Wires a listening server to the OCPP upgrade path with the per-address limit on unauthenticated sockets. */
  function attach(http: HttpServer, connectionEvent: 'connection' | 'secureConnection'): void {
    http.headersTimeout = HANDSHAKE_TIMEOUT_MS;
    http.requestTimeout = HANDSHAKE_TIMEOUT_MS;
    http.on(connectionEvent, (socket: Socket) => {
      if (!pending.admit(socket)) {
        security.refused.inc({ reason: 'TooManyPendingConnections' });
        logger.warn({ address: socket.remoteAddress }, 'too many unauthenticated connections from one address');
        socket.destroy();
      }
    });
    http.on('upgrade', server.handleUpgrade);
    httpServers.push(http);
  }

  async function listenOn(http: HttpServer, port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ port, host }, () => {
        http.off('error', reject);
        resolve();
      });
    });
    return (http.address() as AddressInfo).port;
  }

  const notFound = (_req: IncomingMessage, res: import('node:http').ServerResponse) => {
    res.statusCode = 404;
    res.end();
  };

  return {
    async listen(port, host) {
      const http = createHttpServer({ noDelay: true }, notFound);
      attach(http, 'connection');
      return listenOn(http, port, host);
    },
    async listenTls(port, host) {
      if (!deps.tls) throw new Error('listenTls needs deps.tls (server certificate and key)');
      const https = createHttpsServer(
        {
          cert: deps.tls.cert,
          key: deps.tls.key,
          ...(deps.tls.ca && { ca: deps.tls.ca }),
          // Client certificates are asked for but checked per station (profile 3) in server.auth, so that a
          // profile-2 station without one can connect and a refused one gets an HTTP status, not a TLS alert.
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          noDelay: true,
        },
        notFound,
      ) as unknown as HttpServer;
      attach(https, 'secureConnection');
      return listenOn(https, port, host);
    },
    async close() {
      await server.close({ code: 1001, reason: 'server shutting down', force: true });
      await Promise.all(
        httpServers.map(
          (http) =>
            new Promise<void>((resolve) => {
              http.close(() => resolve());
              http.closeAllConnections();
            }),
        ),
      );
      await messageLog.flush();
    },
    connectedStations: () => [...connections.keys()],
    protocolOf: (stationId) => connections.get(stationId)?.protocol,
    async disconnect(stationId, reason) {
      const client = connections.get(stationId);
      if (!client) return false;
      await client.close({ code: 1000, reason: reason.slice(0, 100), force: true });
      return true;
    },
    async call(stationId, method, params) {
      const client = connections.get(stationId);
      if (!client) throw new StationNotConnected(`station ${stationId} is not connected`);
      metrics.messages.inc({ direction: 'out', action: method });
      return client.call(method, params);
    },
  };
}

type GuardOptions = {
  maxFrameBytes: number;
  codes: GuardErrorCodes;
  /** Runs a new request (CALL) at the station's message rate: now, once its turn comes, or never ('refused'). */
  throttleCall: (dispatch: () => void) => ThrottleOutcome;
  /** `parsed`: the frame as parsed JSON, when it is valid JSON (saves the message log a second parse). */
  onInbound: (text: string, messageId: string | undefined, parsed?: unknown) => void;
  onRejected: (reply: [number, string, string, string, object], reason: string) => void;
};

/**
 * Checks each inbound frame before ocpp-rpc parses it: logs it, refuses frames over the size limit, frames that
 * are not an OCPP-J array (with the error code the station's protocol version prescribes, where ocpp-rpc would
 * always answer RpcFrameworkError, which OCPP 1.6 does not know); requests beyond the station's message rate wait
 * their turn, and are refused only when too many wait at once.
 */
function guardFrames(client: RpcClient, options: GuardOptions): void {
  const parse = client._onMessage.bind(client);
  // A CALL that passed the checks below goes straight to ocpp-rpc's call handling (schema validation, handler,
  // reply) with the frame already parsed here: its `_onMessage` would decode and parse every frame a second time
  // (measured: 3–4 µs of the ~95 µs of node CPU per meter value). Replies to our own calls, rarer, still take the
  // library's path. Should a later ocpp-rpc lack the method, every frame takes that path (checked once).
  // The call itself is answered as the library's `_onCall` answers it, without the AbortSignal it makes for every
  // call (answer-call.ts); the library's own method where the client's internals are not as expected.
  const onCall =
    leanCallAnswerer(client) ?? (typeof client._onCall === 'function' ? client._onCall.bind(client) : undefined);
  const dispatchCall = onCall
    ? (messageId: string, method: string, params: unknown) => {
        if (client._options?.deferPingsOnActivity) client._deferNextPing?.();
        onCall(messageId, method, params);
      }
    : undefined;
  if (client.protocol === 'ocpp2.0.1') {
    // ocpp-rpc's 2.0.1 schema validation answers with the OCPP 1.6 spelling "OccurenceConstraintViolation", a code
    // OCPP 2.0.1 does not define; 2.0.1 spells it "OccurrenceConstraintViolation".
    const send = client.sendRaw.bind(client);
    client.sendRaw = (message: string) =>
      send(
        message.startsWith('[4,')
          ? message.replace(/^(\[4,"[^"]*",)"OccurenceConstraintViolation"/, '$1"OccurrenceConstraintViolation"')
          : message,
      );
  }
  client._onMessage = (buffer: Buffer) => {
    const text = buffer.toString('utf8');
    if (text.length === 0) return;
    if (buffer.byteLength > options.maxFrameBytes) {
      options.onInbound(text.slice(0, 1024), undefined);
      rejectFrame(
        client,
        options,
        peekMessageId(text),
        options.codes.oversized,
        `frame of ${buffer.byteLength} bytes exceeds the limit of ${options.maxFrameBytes}`,
      );
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      options.onInbound(text, undefined);
      rejectFrame(client, options, peekMessageId(text), options.codes.malformed, 'frame is not valid JSON');
      return;
    }
    const isFrame =
      Array.isArray(frame) &&
      typeof frame[0] === 'number' &&
      typeof frame[1] === 'string' &&
      (frame[1] as string).length > 0 &&
      (frame[1] as string).length <= 36;
    if (!isFrame) {
      options.onInbound(text, undefined);
      const id = Array.isArray(frame) && typeof frame[1] === 'string' ? frame[1].slice(0, 36) : '-1';
      rejectFrame(
        client,
        options,
        id,
        options.codes.malformed,
        'frame is not an OCPP-J message [type, messageId, ...]',
      );
      return;
    }
    const [type, id] = frame as [number, string];
    if (nestingDepthExceeds(frame, MAX_FRAME_NESTING_DEPTH)) {
      // No OCPP message nests this deep; recursive code downstream (schema validation, logging) would exhaust the
      // stack on such a frame, so it is refused here and logged as raw text.
      options.onInbound(text, undefined);
      rejectFrame(
        client,
        options,
        id,
        options.codes.malformed,
        `frame nests deeper than ${MAX_FRAME_NESTING_DEPTH} levels`,
      );
      return;
    }
    if (type !== 2 && type !== 3 && type !== 4) {
      options.onInbound(text, undefined);
      rejectFrame(
        client,
        options,
        id,
        options.codes.unknownMessageType,
        `message type ${type} is not CALL (2), CALLRESULT (3) or CALLERROR (4)`,
      );
      return;
    }
    options.onInbound(text, type === 2 ? id : undefined, frame);
    if (type !== 2) {
      parse(buffer);
      return;
    }
    const method = (frame as unknown[])[2];
    // A CALL is exactly [2, messageId, action, payload] (OCPP-J 4.2.1). Anything else would reach ocpp-rpc's parser,
    // which answers RpcFrameworkError, a code OCPP 1.6 does not have, or, with extra elements, process it anyway.
    if (typeof method !== 'string' || (frame as unknown[]).length !== 4) {
      rejectFrame(client, options, id, options.codes.malformed, 'a CALL is [2, messageId, action (a string), payload]');
      return;
    }
    // Inline and unnamed on purpose: tsx names every named closure as it is made (esbuild's keepNames), per frame.
    const payload = (frame as unknown[])[3];
    if (
      options.throttleCall(dispatchCall ? () => dispatchCall(id, method, payload) : () => parse(buffer)) === 'refused'
    ) {
      rejectFrame(
        client,
        options,
        id,
        options.codes.rateLimited,
        'too many messages per second waiting; wait for each answer',
      );
    }
  };
}

/** Answers a frame the guard refuses with a CALLERROR (a function of its own, not a closure made per frame). */
function rejectFrame(
  client: RpcClient,
  options: GuardOptions,
  messageId: string,
  code: string,
  description: string,
): void {
  const reply: [number, string, string, string, object] = [4, messageId, code, description, {}];
  options.onRejected(reply, description);
  client.sendRaw(JSON.stringify(reply));
}

/** Deepest nesting of arrays/objects an inbound frame may have; the OCPP 1.6 and 2.0.1 schemas need fewer than 10. */
const MAX_FRAME_NESTING_DEPTH = 32;

/**
 * Whether a parsed JSON value nests arrays/objects deeper than `limit`. It runs on every frame, so it allocates
 * nothing per element; its recursion stops at `limit` levels, so a hostile frame cannot exhaust the stack.
 */
export function nestingDepthExceeds(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestingDepthExceeds(value[i], limit - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (nestingDepthExceeds(record[key], limit - 1)) return true;
  return false;
}

/** The message id of a frame that cannot be parsed, when its start still reads [2,"id" (else -1). */
function peekMessageId(text: string): string {
  const match = /^\s*\[\s*\d\s*,\s*"([^"]{1,36})"/.exec(text.slice(0, 128));
  return match?.[1] ?? '-1';
}
