/**
 * Users: operator staff and drivers who sign in. Emails and names are stored encrypted with a blind index for
 * lookups; passwords as scrypt hashes. Every creation is audited in the same transaction.
 */
import type { Kysely, Transaction } from 'kysely';
import { appendAudit } from '../audit/append-audit.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Database, UserRole } from '../db/schema.ts';
import { EMAIL_INDEX_CONTEXT, isEmail, normalizeEmail } from './email.ts';
import { hashPassword, passwordProblem } from './password-hash.ts';

export const USER_ROLES = ['admin', 'finance', 'support', 'read-only', 'driver'] as const satisfies readonly UserRole[];

export type NewUser = {
  operatorId: string;
  email: string;
  name?: string | null;
  password: string;
  role: UserRole;
  customerId?: string | null;
};

export type UserView = {
  id: string;
  operatorId: string;
  email: string;
  name: string | null;
  role: UserRole;
  customerId: string | null;
  createdAt: string;
  disabledAt: string | null;
  lastSignInAt: string | null;
};

export type CreateUserResult =
  | { ok: true; user: UserView }
  | { ok: false; error: { code: 'InvalidRequest' | 'Conflict' | 'NotFound'; message: string } };

export async function createUser(
  db: Kysely<Database>,
  cipher: FieldCipher,
  input: NewUser,
  audit: { actor: string; at: Date; ip?: string | null; requestId?: string | null },
): Promise<CreateUserResult> {
  if (!isEmail(input.email)) return { ok: false, error: { code: 'InvalidRequest', message: 'email is not valid' } };
  const problem = passwordProblem(input.password);
  if (problem) return { ok: false, error: { code: 'InvalidRequest', message: problem } };
  if ((input.role === 'driver') !== Boolean(input.customerId)) {
    return { ok: false, error: { code: 'InvalidRequest', message: 'a driver user needs customerId, staff none' } };
  }
  const email = normalizeEmail(input.email);
  const emailIndex = cipher.blindIndex(EMAIL_INDEX_CONTEXT, email);
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    if (input.customerId) {
      const customer = await trx
        .selectFrom('customers')
        .select('id')
        .where('id', '=', input.customerId)
        .where('operator_id', '=', input.operatorId)
        .executeTakeFirst();
      if (!customer) return { ok: false, error: { code: 'NotFound', message: `no customer ${input.customerId}` } };
    }
    const taken = await trx.selectFrom('users').select('id').where('email_index', '=', emailIndex).executeTakeFirst();
    if (taken) return { ok: false, error: { code: 'Conflict', message: 'a user with this email exists' } };
    const row = await trx
      .insertInto('users')
      .values({
        operator_id: input.operatorId,
        email_index: emailIndex,
        email_enc: cipher.encrypt('users.email', email),
        name_enc: cipher.encryptOptional('users.name', input.name),
        password_hash: passwordHash,
        role: input.role,
        customer_id: input.customerId ?? null,
        created_at: audit.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      operatorId: input.operatorId,
      actor: audit.actor,
      action: 'user.create',
      subjectType: 'user',
      subjectId: row.id,
      // Personal data never goes into the audit log in clear text: the log names the user by id.
      after: { role: row.role, customerId: row.customer_id },
      ip: audit.ip ?? null,
      requestId: audit.requestId ?? null,
      at: audit.at,
    });
    return { ok: true, user: await userView(cipher, row) };
  });
}

type UserRow = {
  id: string;
  operator_id: string;
  email_enc: string;
  name_enc: string | null;
  role: UserRole;
  customer_id: string | null;
  created_at: Date;
  disabled_at: Date | null;
  last_sign_in_at: Date | null;
};

export async function userView(cipher: FieldCipher, row: UserRow): Promise<UserView> {
  return {
    id: row.id,
    operatorId: row.operator_id,
    email: await cipher.decrypt('users.email', row.email_enc),
    name: await cipher.decryptOptional('users.name', row.name_enc),
    role: row.role,
    customerId: row.customer_id,
    createdAt: row.created_at.toISOString(),
    disabledAt: row.disabled_at?.toISOString() ?? null,
    lastSignInAt: row.last_sign_in_at?.toISOString() ?? null,
  };
}

export type Db = Kysely<Database> | Transaction<Database>;
