/** Who is calling: a machine with an API key, or a signed-in person (staff or driver), always of one operator. */
import type { UserRole } from '../../db/schema.ts';

export type ApiPrincipal = {
  readonly kind: 'api-key' | 'user';
  readonly keyId?: string;
  readonly userId?: string;
  /** The sign-in session an access token belongs to (sign-out revokes it). */
  readonly sessionId?: string;
  readonly operatorId: string;
  readonly role: UserRole;
  /** Set for drivers: the customer whose data they may see, and nobody else's. */
  readonly customerId: string | null;
  /** How the audit log names this caller: `api-key:<id>` or `user:<id>`. */
  readonly actor: string;
};
