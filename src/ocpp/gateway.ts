/**
 * The OCPP endpoint: ws://HOST:PORT/ocpp/{stationId}. Built on ocpp-rpc in strict mode (every request is
 * validated against the official JSON schemas before a handler sees it). On top of that the gateway enforces
 * Voltbill's limits: frame size, bad messages in a row, one request at a time per station, and logs every frame.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { createRPCError, RPCServer } from 'ocpp-rpc';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { Clock } from '../shared/clock.ts';
import type { MessageLog } from './message-log.ts';
import { StationConnection } from './station-connection.ts';
import { StationQueue, StationQueueFull } from './station-queue.ts';
import { notAcceptedError, V16_ALLOWED_BEFORE_ACCEPTED, type V16Handler } from './v16/handlers.ts';

export type GatewayDeps = {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly messageLog: MessageLog;
  readonly v16Handlers: Record<string, V16Handler>;
  readonly limits: {
    readonly maxFrameBytes: number;
    readonly maxBadMessages: number;
    readonly callTimeoutMs: number;
  };
};

export type Gateway = {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
  connectedStations(): string[];
};

/** Requests of one station that may wait behind the one being processed. */
const MAX_QUEUED_REQUESTS_PER_STATION = 16;
const STATION_ID_PATTERN = /^[A-Za-z0-9*._:-]{1,48}$/;
const OCPP_PATH = '/ocpp';

type RpcClient = {
  identity: string;
  protocol: string;
  session: { stationId: string };
  handle(
    method: string,
    handler: (call: { messageId: string; params: Record<string, unknown> }) => Promise<unknown>,
  ): void;
  on(event: string, listener: (event: never) => void): void;
  close(options: { code: number; reason: string; force?: boolean }): Promise<unknown>;
  sendRaw(text: string): void;
  _onMessage(buffer: Buffer): void;
};

export function createGateway(deps: GatewayDeps): Gateway {
  const { logger, metrics, messageLog, limits } = deps;
  const server = new RPCServer({
    protocols: ['ocpp1.6'],
    strictMode: true,
    callTimeoutMs: limits.callTimeoutMs,
    // Voltbill counts bad messages itself (see guardFrames); ocpp-rpc's own counter would miss oversized frames.
    maxBadMessages: Number.POSITIVE_INFINITY,
    // ws drops the connection (1009) on frames beyond this hard ceiling without reading them into memory;
    // frames between the configured limit and the ceiling are answered with an OCPP error instead.
    wssOptions: { maxPayload: Math.max(limits.maxFrameBytes * 4, 1024 * 1024) },
  });
  const connections = new Map<string, RpcClient>();
  let httpServer: HttpServer | undefined;

  server.auth((accept, reject, handshake) => {
    if (handshake.endpoint !== OCPP_PATH || !STATION_ID_PATTERN.test(handshake.identity)) {
      reject(404, 'use ws://host:port/ocpp/{stationId}');
      return;
    }
    accept({ stationId: handshake.identity });
  });

  server.on('client', (client: RpcClient) => {
    const stationId = client.session.stationId;
    const previous = connections.get(stationId);
    if (previous) {
      // The newest connection of a station wins: the old one is most likely a half-dead socket.
      logger.warn({ stationId }, 'station reconnected; closing its previous connection');
      void previous.close({ code: 1000, reason: 'replaced by a new connection', force: true });
    }
    connections.set(stationId, client);
    metrics.connectedStations.set(connections.size);
    const station = new StationConnection(stationId, client.protocol, deps.db);
    const queue = new StationQueue(MAX_QUEUED_REQUESTS_PER_STATION);
    const inboundLogged = new Map<string, Promise<void>>();
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
      onInbound: (text, messageId) => {
        const logged = messageLog.append({ stationId, direction: 'in', text, at: deps.clock.now() });
        logged.catch((error) => logger.error({ err: error, stationId }, 'could not log an inbound frame'));
        if (messageId !== undefined) inboundLogged.set(messageId, logged);
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
          logger.error({ stationId, method, err: error }, 'a reply of ours failed schema validation');
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
      if (connections.get(stationId) === client) connections.delete(stationId);
      metrics.connectedStations.set(connections.size);
      logger.info({ stationId }, 'station disconnected');
    });

    for (const [action, handler] of Object.entries(deps.v16Handlers)) {
      client.handle(action, async ({ messageId, params }) => {
        const startedAt = process.hrtime.bigint();
        metrics.messages.inc({ direction: 'in', action });
        try {
          return await queue.run(async () => {
            if (!V16_ALLOWED_BEFORE_ACCEPTED.has(action) && !(await station.isAccepted())) {
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
          logger.error({ err: error, stationId, action }, 'handler failed');
          throw createRPCError('InternalError', 'the request could not be processed; retry later');
        } finally {
          inboundLogged.delete(messageId);
          metrics.handlerSeconds.observe({ action }, Number(process.hrtime.bigint() - startedAt) / 1e9);
        }
      });
    }
    logger.info({ stationId, protocol: client.protocol }, 'station connected');
  });

  return {
    async listen(port, host) {
      httpServer = (await server.listen(port, host)) as HttpServer;
      return (httpServer.address() as AddressInfo).port;
    },
    async close() {
      await server.close({ code: 1001, reason: 'server shutting down', force: true });
      await messageLog.flush();
    },
    connectedStations: () => [...connections.keys()],
  };
}

type GuardOptions = {
  maxFrameBytes: number;
  onInbound: (text: string, messageId: string | undefined) => void;
  onRejected: (reply: [number, string, string, string, object], reason: string) => void;
};

/**
 * Checks each inbound frame before ocpp-rpc parses it: logs it, refuses frames over the size limit and frames that
 * are not an OCPP-J array with the error code OCPP 1.6 prescribes (FormationViolation), where ocpp-rpc would
 * answer with RpcFrameworkError, which only exists from OCPP 2.0.1 on.
 */
function guardFrames(client: RpcClient, options: GuardOptions): void {
  const parse = client._onMessage.bind(client);
  client._onMessage = (buffer: Buffer) => {
    const text = buffer.toString('utf8');
    if (text.length === 0) return;
    const reject = (messageId: string, description: string) => {
      const reply: [number, string, string, string, object] = [4, messageId, 'FormationViolation', description, {}];
      options.onRejected(reply, description);
      client.sendRaw(JSON.stringify(reply));
    };
    if (buffer.byteLength > options.maxFrameBytes) {
      options.onInbound(text.slice(0, 1024), undefined);
      reject(peekMessageId(text), `frame of ${buffer.byteLength} bytes exceeds the limit of ${options.maxFrameBytes}`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      options.onInbound(text, undefined);
      reject(peekMessageId(text), 'frame is not valid JSON');
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
      reject(id, 'frame is not an OCPP-J message [type, messageId, ...]');
      return;
    }
    const [type, id] = frame as [number, string];
    options.onInbound(text, type === 2 ? id : undefined);
    parse(buffer);
  };
}

/** The message id of a frame that cannot be parsed, when its start still reads [2,"id" (else -1). */
function peekMessageId(text: string): string {
  const match = /^\s*\[\s*\d\s*,\s*"([^"]{1,36})"/.exec(text.slice(0, 128));
  return match?.[1] ?? '-1';
}
