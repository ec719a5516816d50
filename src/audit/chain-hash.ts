/**
 * The hash of one audit entry: sha256 over the previous entry's hash and the entry's canonical JSON. The first
 * entry of a chain links to GENESIS_HASH. Pure, so that append and verify compute it the same way.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** Exactly the fields an entry's hash covers; `at` is ISO-8601 UTC with milliseconds. */
export type ChainedEntry = {
  operatorId: string;
  seq: bigint;
  at: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  before: unknown;
  after: unknown;
  ip: string | null;
  requestId: string | null;
};

export function chainHash(prevHash: string, entry: ChainedEntry): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson({ ...entry, seq: entry.seq.toString() }))
    .digest('hex');
}
