/**
 * Remote commands for stations connected to another node. The caller's node finds the station's node in
 * station_presence, sends it the command over NOTIFY, and waits for the outcome the same way; the station's node
 * runs the command exactly as for a local caller (runCommand: translation, the station's answer, the records a
 * command updates) and sends the outcome back. The caller therefore gets the same typed result as locally:
 * StationNotConnected at once when no live node holds the station, StationTimeout when no answer comes in time.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { CommandName } from '../ocpp/commands/build-command.ts';
import type { CommandOutcome } from '../ocpp/commands/run-command.ts';
import { type ClusterMessage, publish } from './cluster-messages.ts';
import { findStationNode } from './cluster-store.ts';
import { nodeChannel } from './node-id.ts';

/**
 * How long the station's node has to acknowledge a command. A node killed within its liveness TTL still looks
 * alive in station_presence; without the acknowledgement a caller would wait the whole command timeout.
 */
export const ACK_TIMEOUT_MS = 3_000;
/** Commands this node may wait for at once; more fail at once instead of piling up timers. */
export const MAX_PENDING_REMOTE_COMMANDS = 1000;

export type RunLocalCommand = (
  stationId: string,
  command: CommandName,
  input: Record<string, unknown>,
) => Promise<CommandOutcome>;

export type RemoteCommands = {
  /** Runs a command on a station held by another node. */
  forward(stationId: string, command: CommandName, input: Record<string, unknown>): Promise<CommandOutcome>;
  /** Handles a 'cmd', 'ack' or 'res' message addressed to this node. */
  handle(message: ClusterMessage): void;
  /** Fails every waiting command (shutdown). */
  close(): void;
};

export type RemoteCommandDeps = {
  readonly db: Kysely<Database>;
  readonly nodeId: string;
  readonly logger: Logger;
  /** How long a caller waits for the station's node: the station's own call timeout plus the trip both ways. */
  readonly timeoutMs: number;
  /** Runs a command on a station connected to this node (never forwards again). */
  readonly runLocal: RunLocalCommand;
};

type Pending = { resolve(outcome: CommandOutcome): void; timer: NodeJS.Timeout; ackTimer: NodeJS.Timeout | undefined };

export function createRemoteCommands(deps: RemoteCommandDeps): RemoteCommands {
  const pending = new Map<string, Pending>();

  const fail = (code: 'StationNotConnected' | 'StationTimeout' | 'StationCallFailed', message: string) =>
    ({ ok: false, error: { code, message } }) satisfies CommandOutcome;

  return {
    async forward(stationId, command, input) {
      const node = await findStationNode(deps.db, stationId);
      if (node === undefined || node === deps.nodeId) {
        return fail('StationNotConnected', `station ${stationId} is not connected`);
      }
      if (pending.size >= MAX_PENDING_REMOTE_COMMANDS) {
        return fail('StationCallFailed', `more than ${MAX_PENDING_REMOTE_COMMANDS} remote commands are waiting`);
      }
      const id = randomUUID();
      const answered = new Promise<CommandOutcome>((resolve) => {
        const giveUp = (message: string) => () => {
          const waiting = pending.get(id);
          if (!waiting) return;
          clearTimeout(waiting.timer);
          clearTimeout(waiting.ackTimer);
          pending.delete(id);
          resolve(fail('StationTimeout', message));
        };
        const timer = setTimeout(
          giveUp(`station ${stationId} (on node ${node}) did not answer in time`),
          deps.timeoutMs,
        );
        const ackTimer = setTimeout(
          giveUp(`node ${node}, which holds station ${stationId}, did not acknowledge the command (is it down?)`),
          Math.min(ACK_TIMEOUT_MS, deps.timeoutMs),
        );
        timer.unref();
        ackTimer.unref();
        pending.set(id, { resolve, timer, ackTimer });
      });
      try {
        await publish(deps.db, nodeChannel(node), {
          t: 'cmd',
          id,
          from: deps.nodeId,
          station: stationId,
          command,
          input,
        });
      } catch (error) {
        const waiting = pending.get(id);
        if (waiting) {
          clearTimeout(waiting.timer);
          clearTimeout(waiting.ackTimer);
        }
        pending.delete(id);
        return fail('StationCallFailed', `could not reach node ${node}: ${(error as Error).message}`);
      }
      return answered;
    },

    handle(message) {
      if (message.t === 'ack') {
        const waiting = pending.get(message.id);
        if (waiting) {
          clearTimeout(waiting.ackTimer);
          waiting.ackTimer = undefined;
        }
        return;
      }
      if (message.t === 'res') {
        const waiting = pending.get(message.id);
        if (!waiting) return; // timed out meanwhile: the caller already has its StationTimeout
        clearTimeout(waiting.timer);
        clearTimeout(waiting.ackTimer);
        pending.delete(message.id);
        waiting.resolve(message.outcome);
        return;
      }
      if (message.t !== 'cmd') return;
      void (async () => {
        await publish(deps.db, nodeChannel(message.from), { t: 'ack', id: message.id });
        let outcome: CommandOutcome;
        try {
          outcome = await deps.runLocal(message.station, message.command, message.input);
        } catch (error) {
          deps.logger.error({ err: error, stationId: message.station }, 'remote command failed on this node');
          outcome = fail('StationCallFailed', `${message.command} failed on node ${deps.nodeId}`);
        }
        await publish(deps.db, nodeChannel(message.from), { t: 'res', id: message.id, outcome });
      })().catch((error) =>
        deps.logger.error({ err: error, stationId: message.station }, 'could not send a remote command reply'),
      );
    },

    close() {
      for (const [id, waiting] of pending) {
        clearTimeout(waiting.timer);
        clearTimeout(waiting.ackTimer);
        waiting.resolve(fail('StationTimeout', 'this node is shutting down'));
        pending.delete(id);
      }
    },
  };
}
