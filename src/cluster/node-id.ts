/**
 * A node's identity in a cluster and the LISTEN/NOTIFY channels derived from it. The id is configured
 * (VOLTBILL_NODE_ID) or random per process start, so that a restarted node never inherits the claims or the
 * station presence of its previous life.
 */
import { randomBytes } from 'node:crypto';

/** The channel every node listens on: station presence changes. */
export const BROADCAST_CHANNEL = 'voltbill_cluster';

export function resolveNodeId(configured: string | undefined): string {
  return configured ?? `node_${randomBytes(5).toString('hex')}`;
}

/** The channel only `nodeId` listens on: commands for its stations and replies to its commands. */
export function nodeChannel(nodeId: string): string {
  // Node ids are [a-z0-9_]{1,40} (config schema), so the channel is a valid identifier under 63 characters.
  return `voltbill_node_${nodeId}`;
}
