/**
 * The chart of accounts: every operator has the same kinds of accounts, per currency, created on first use.
 * An account is named by a code (its purpose, then its sub-ledger after colons); the helpers below are the only
 * way code should spell those names, so that payments, billing and reconciliation agree on them.
 *
 * Sign convention of postings: debit positive, credit negative. Asset and expense accounts normally carry a
 * positive (debit) balance; liability, revenue and equity accounts a negative (credit) one.
 */
import { createHash } from 'node:crypto';
import type { LedgerAccountKind } from '../db/schema.ts';
import { assert } from '../shared/assert.ts';

export type AccountRef = { readonly code: string; readonly kind: LedgerAccountKind };

const SEGMENT = /^[A-Za-z0-9._*-]{1,80}$/;

function sub(base: string, ...segments: string[]): string {
  for (const segment of segments) assert(SEGMENT.test(segment), `invalid account code segment '${segment}'`);
  return [base, ...segments].join(':');
}

/** Named accounts of an operator's chart. Amounts on them are always in the transfer's currency. */
export const accounts = {
  /** What customers owe (asset). Optionally per id token or per customer account as a sub-ledger. */
  customerReceivables: (party?: { tokenId?: string; customerId?: string }): AccountRef => ({
    code: party?.customerId
      ? sub('customer_receivables', 'customer', party.customerId)
      : party?.tokenId
        ? sub('customer_receivables', 'token', party.tokenId)
        : 'customer_receivables',
    kind: 'asset',
  }),
  /** Prepaid money the operator holds for a driver's wallet (liability). */
  prepaidWallet: (walletId: string): AccountRef => ({ code: sub('prepaid_wallets', walletId), kind: 'liability' }),
  /** Charging revenue excluding VAT (revenue). */
  chargingRevenue: (): AccountRef => ({ code: 'charging_revenue', kind: 'revenue' }),
  /** VAT owed to a tax office, per country of supply (ISO 3166 code as stored) and rate ('19', '7.7', 'none'). */
  vatPayable: (country: string, ratePercent: string): AccountRef => ({
    code: sub('vat_payable', country, ratePercent),
    kind: 'liability',
  }),
  /** Money a payment provider has captured for us and not yet paid out (asset), per provider. */
  providerClearing: (provider: string): AccountRef => ({ code: sub('provider_clearing', provider), kind: 'asset' }),
  /** Money on the operator's bank account (asset): where provider payouts land. */
  bank: (): AccountRef => ({ code: 'bank', kind: 'asset' }),
  /** Refunds granted outside a credit note (expense). */
  refunds: (): AccountRef => ({ code: 'refunds', kind: 'expense' }),
  /** Receivables written off (expense). */
  badDebt: (): AccountRef => ({ code: 'bad_debt', kind: 'expense' }),
  /** What a roaming partner (eMSP, by OCPI party id like 'DE*ABC') owes for its drivers' sessions (asset). */
  roamingReceivables: (partyId: string): AccountRef => ({
    code: sub('roaming_receivables', partyId),
    kind: 'asset',
  }),
  /** Amounts reserved by a payment hold (asset): the pre-authorized card money, before capture. */
  holdsReserved: (provider: string): AccountRef => ({ code: sub('holds_reserved', provider), kind: 'asset' }),
  /** Counter-account of holds (liability): what the reserve is for, released on void. */
  holdsPending: (provider: string): AccountRef => ({ code: sub('holds_pending', provider), kind: 'liability' }),
} as const;

/** True for accounts whose balance is money customers owe (receivables of any sub-ledger). */
export function isReceivableCode(code: string): boolean {
  return code === 'customer_receivables' || code.startsWith('customer_receivables:');
}

/**
 * The account's id, derived from (operator, code, currency) as a name-based UUID (RFC 4122 layout, SHA-256): every
 * node computes the same id without a lookup, so posting needs no read of the chart first.
 */
export function accountId(operatorId: string, code: string, currency: string): string {
  const hex = createHash('sha256').update(`voltbill-ledger-account|${operatorId}|${code}|${currency}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
