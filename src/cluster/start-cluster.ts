/**
 * One node's membership in a cluster of Voltbill nodes on one PostgreSQL: its liveness heartbeat, the presence of
 * the stations connected to it, the cluster-wide list of connected stations, remote commands to stations on other
 * nodes, and claims of periodic jobs that must run once per period across the nodes. main.ts starts it when the
 * database is PostgreSQL; on the embedded database there is one node and everything stays local.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ConfigError } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { CommandOutcome } from '../ocpp/commands/run-command.ts';
import type { Gateway, StationPresenceHooks } from '../ocpp/gateway.ts';
import { receive } from './cluster-messages.ts';
import {
  claimJobRun,
  remoteStations,
  removeNode,
  removeStaleClusterRows,
  renewNode,
  syncPresence,
} from './cluster-store.ts';
import { BROADCAST_CHANNEL, nodeChannel } from './node-id.ts';
import { startPgListener } from './pg-listener.ts';
import { createPresenceWriter } from './presence-writer.ts';
import { createRemoteCommands, type RemoteCommands, type RunLocalCommand } from './remote-commands.ts';

/** How long a node start waits for its listener's first connection. */
const LISTENER_READY_TIMEOUT_MS = 15_000;
/** Heartbeats between two rounds of housekeeping (dead nodes' rows, unread messages). */
const HOUSEKEEPING_EVERY_BEATS = 12;
/** The time a remote command adds to the station's own call timeout: two NOTIFY trips and two lookups. */
const REMOTE_COMMAND_MARGIN_MS = 5_000;

export type ClusterOptions = {
  readonly db: Kysely<Database>;
  /** A direct connection URL for the listener (not through pgbouncer in transaction mode). */
  readonly url: string;
  readonly nodeId: string;
  readonly heartbeatS: number;
  readonly nodeTtlS: number;
  readonly callTimeoutMs: number;
  readonly logger: Logger;
};

export type LocalNode = {
  readonly gateway: Pick<Gateway, 'connectedStations' | 'disconnect'>;
  readonly runLocal: RunLocalCommand;
};

export type Cluster = {
  readonly nodeId: string;
  /** For the gateway: records which stations connect to and leave this node. */
  readonly presence: StationPresenceHooks;
  /** Connects the cluster to this node's gateway once it exists (before any station can connect). */
  attach(local: LocalNode): void;
  /** Stations connected to any live node (this one's from its gateway, the others' from presence). */
  connectedStations(): string[];
  /** Runs a command on a station held by another node (see remote-commands.ts). */
  forward: RemoteCommands['forward'];
  /** True for exactly one node per period of `job` (see claimJobRun). */
  claimJobRun(job: string, periodMs: number): Promise<boolean>;
  close(): Promise<void>;
};

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { db, nodeId, logger } = options;
  if (options.nodeTtlS < options.heartbeatS * 2) {
    throw new ConfigError(
      `VOLTBILL_CLUSTER_NODE_TTL_S (${options.nodeTtlS}) must be at least twice VOLTBILL_CLUSTER_HEARTBEAT_S (${options.heartbeatS})`,
    );
  }
  const log = logger.child({ nodeId });
  let local: LocalNode | undefined;
  /** Stations connected here: protocol and the database time of the connection (once recorded). */
  const here = new Map<string, { protocol: string; connectedAt?: Date }>();
  /** Stations on other live nodes, from the last heartbeat plus the broadcasts since. */
  let elsewhere = new Map<string, string>();
  /** Presence rows and broadcasts, written in batches and in order per station. */
  const presenceWriter = createPresenceWriter(db, nodeId, log);

  const remote = createRemoteCommands({
    db,
    nodeId,
    logger: log,
    timeoutMs: options.callTimeoutMs + REMOTE_COMMAND_MARGIN_MS,
    runLocal: (stationId, command, input): Promise<CommandOutcome> =>
      local
        ? local.runLocal(stationId, command, input)
        : Promise.resolve({
            ok: false,
            error: { code: 'StationNotConnected', message: `station ${stationId} is not connected` },
          }),
  });

  const refreshElsewhere = async () => {
    elsewhere = await remoteStations(db, nodeId);
  };

  const listener = startPgListener({
    url: options.url,
    channels: [BROADCAST_CHANNEL, nodeChannel(nodeId)],
    logger: log,
    onReconnect: () => void refreshElsewhere().catch(() => undefined),
    onNotification: ({ payload }) => {
      void receive(db, payload)
        .then((message) => {
          if (!message) return;
          if (message.t === 'up' && message.node !== nodeId) {
            const at = new Date(message.at);
            for (const station of message.stations) {
              elsewhere.set(station, message.node);
              // The station authenticated on another node after connecting here: this socket is most likely
              // half-dead (the station cannot hold two), so it is closed, as the gateway does within one node.
              const mine = here.get(station);
              if (mine?.connectedAt && mine.connectedAt < at) {
                log.warn({ stationId: station, node: message.node }, 'station moved to another node');
                void local?.gateway.disconnect(station, `connected to node ${message.node}`);
              }
            }
          } else if (message.t === 'down' && message.node !== nodeId) {
            for (const station of message.stations) {
              if (elsewhere.get(station) === message.node) elsewhere.delete(station);
            }
          } else if (message.t === 'cmd' || message.t === 'ack' || message.t === 'res') {
            remote.handle(message);
          }
        })
        .catch((error) => log.error({ err: error }, 'could not read a cluster message'));
    },
  });
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`the cluster listener could not LISTEN on PostgreSQL within ${LISTENER_READY_TIMEOUT_MS} ms`)),
      LISTENER_READY_TIMEOUT_MS,
    );
    timer.unref();
    void listener.ready.then(() => clearTimeout(timer));
  });
  try {
    await Promise.race([listener.ready, timeout]);
    await renewNode(db, nodeId, options.nodeTtlS);
    await refreshElsewhere();
  } catch (error) {
    await listener.close();
    throw error;
  }

  let beats = 0;
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    (async () => {
      await renewNode(db, nodeId, options.nodeTtlS);
      const protocols = new Map([...here].map(([id, s]) => [id, s.protocol]));
      await syncPresence(db, nodeId, protocols);
      if (++beats % HOUSEKEEPING_EVERY_BEATS === 0) await removeStaleClusterRows(db);
      await refreshElsewhere();
      await listener.ping();
    })()
      .catch((error) => log.error({ err: error }, 'cluster heartbeat failed'))
      .finally(() => {
        beating = false;
      });
  }, options.heartbeatS * 1000);
  heartbeat.unref();
  log.info({ heartbeatS: options.heartbeatS, nodeTtlS: options.nodeTtlS }, 'joined the cluster');

  let closed = false;
  return {
    nodeId,
    presence: {
      connected(stationId, protocol) {
        const entry: { protocol: string; connectedAt?: Date } = { protocol };
        here.set(stationId, entry);
        elsewhere.delete(stationId);
        presenceWriter.connected(stationId, protocol, (at) => {
          entry.connectedAt = at;
        });
      },
      disconnected(stationId) {
        here.delete(stationId);
        if (closed) return; // close() removes every row of this node at once
        presenceWriter.disconnected(stationId);
      },
    },
    attach(node) {
      local = node;
    },
    connectedStations() {
      const mine = local?.gateway.connectedStations() ?? [];
      if (elsewhere.size === 0) return mine;
      const all = new Set(mine);
      for (const id of elsewhere.keys()) all.add(id);
      return [...all];
    },
    forward: (stationId, command, input) => remote.forward(stationId, command, input),
    async claimJobRun(job, periodMs) {
      try {
        return await claimJobRun(db, nodeId, job, periodMs);
      } catch (error) {
        log.error({ err: error, job }, 'could not claim a job run');
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      remote.close();
      await presenceWriter.flush();
      await removeNode(db, nodeId).catch((error) => log.error({ err: error }, 'could not leave the cluster'));
      await listener.close();
    },
  };
}
