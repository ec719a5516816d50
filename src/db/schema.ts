/**
 * Typed schema of the database for Kysely. Column types say what the drivers return: bigint for int8 (money in
 * minor units, energy in Wh), string for numeric (exact decimals), Date for timestamptz, parsed JSON for jsonb.
 * It mirrors migrations/*.sql; a migration that changes a table changes this file in the same commit.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface OperatorsTable {
  id: Generated<string>;
  name: string;
  country_code: string;
  party_id: string;
  currency: string;
  rounding_mode: Generated<'half-up' | 'half-even'>;
  created_at: CreatedAt;
}

export interface LocationsTable {
  id: Generated<string>;
  operator_id: string;
  name: string;
  address: Generated<string>;
  city: Generated<string>;
  postal_code: Generated<string>;
  country: string;
  time_zone: string;
  latitude: string | null;
  longitude: string | null;
  created_at: CreatedAt;
}

export type RegistrationStatus = 'Accepted' | 'Pending' | 'Rejected';

export interface StationsTable {
  id: string;
  operator_id: string | null;
  location_id: string | null;
  registration_status: RegistrationStatus;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  ocpp_version: string | null;
  last_boot_at: Date | null;
  last_seen_at: Date | null;
  created_at: CreatedAt;
  /** migrations/0003_station_security.sql: OCPP security profile 0-3, scrypt password hash, local list version. */
  security_profile: Generated<number>;
  password_hash: string | null;
  password_changed_at: Date | null;
  local_list_version: Generated<number>;
}

export type PowerType = 'AC_1_PHASE' | 'AC_2_PHASE' | 'AC_2_PHASE_SPLIT' | 'AC_3_PHASE' | 'DC';

export interface EvsesTable {
  station_id: string;
  evse_id: number;
  evse_uid: string;
  connector_standard: Generated<string>;
  connector_format: Generated<'SOCKET' | 'CABLE'>;
  power_type: PowerType;
  max_power_w: number;
  status: Generated<string>;
  error_code: string | null;
  status_at: Date | null;
}

export type IdTokenStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';

export interface IdTokensTable {
  id: Generated<string>;
  operator_id: string;
  uid: string;
  type: Generated<'RFID' | 'APP_USER' | 'AD_HOC_USER' | 'OTHER'>;
  status: IdTokenStatus;
  expires_at: Date | null;
  contract_id: string | null;
  group_id: string | null;
  label: string | null;
  created_at: CreatedAt;
  customer_id: string | null;
  /**
   * migrations/0012: `<label> (<uid>)` sealed under the invoice buyer name's context, written with a sealed label,
   * for invoices issued without a key; null without a label or for labels written before 0012 (clear text).
   */
  anonymous_buyer_name: string | null;
}

export interface TariffsTable {
  id: Generated<string>;
  operator_id: string;
  code: string;
  type: Generated<string>;
  created_at: CreatedAt;
  retired_at: Date | null;
}

export interface TariffVersionsTable {
  id: Generated<string>;
  tariff_id: string;
  version: number;
  valid_from: Date;
  currency: string;
  body: Json<unknown>;
  created_at: CreatedAt;
}

export type TariffAudience = 'contract' | 'ad_hoc';
export type TariffScopeKind = 'operator' | 'location' | 'evse' | 'group';

export interface TariffAssignmentsTable {
  id: Generated<string>;
  operator_id: string;
  tariff_id: string;
  audience: Generated<TariffAudience>;
  scope: TariffScopeKind;
  location_id: string | null;
  station_id: string | null;
  evse_id: number | null;
  group_id: string | null;
  created_at: CreatedAt;
}

export type SessionStatus = 'Active' | 'Completed';
export type BillingStatus = 'Pending' | 'Billed' | 'Held' | 'NotBillable';

export interface SessionsTable {
  id: Generated<string>;
  operator_id: string;
  station_id: string;
  evse_id: number;
  connector_id: Generated<number>;
  transaction_id: string;
  start_key: string;
  id_tag: string;
  id_token_id: string | null;
  authorization_status: string;
  status: SessionStatus;
  billing_status: Generated<BillingStatus>;
  started_at: Date;
  ended_at: Date | null;
  meter_start_wh: bigint;
  meter_stop_wh: bigint | null;
  energy_wh: bigint | null;
  stop_reason: string | null;
  tariff_version_id: string | null;
  time_zone: string;
  currency: string;
  charging_state: string | null;
  findings: ColumnType<unknown, string | undefined, string>;
  received_start_at: CreatedAt;
  received_stop_at: Date | null;
}

export interface MeterSamplesTable {
  session_id: string;
  sampled_at: Date;
  context: string;
  register_wh: string | null;
  power_w: string | null;
  current_a: string | null;
  soc_percent: string | null;
}

export interface SessionStatesTable {
  session_id: string;
  changed_at: Date;
  state: string;
}

export interface CdrsTable {
  id: Generated<string>;
  operator_id: string;
  session_id: string;
  currency: string;
  energy_wh: bigint;
  total_excl_vat_minor: bigint;
  total_incl_vat_minor: bigint;
  tariff_version_id: string;
  cdr: Json<unknown>;
  lines: Json<unknown>;
  created_at: CreatedAt;
}

export interface OcppMessagesTable {
  id: Generated<bigint>;
  station_id: string;
  direction: 'in' | 'out';
  message_type: number | null;
  message_id: string | null;
  action: string | null;
  /** The payload's JSON text exactly as it travelled (migration 0013). */
  payload: string | null;
  raw: string | null;
  logged_at: CreatedAt;
}

export type ApiRole = 'admin' | 'finance' | 'support' | 'read-only';

export interface ApiKeysTable {
  id: Generated<string>;
  operator_id: string;
  name: string;
  key_hash: string;
  role: ApiRole;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
  key_prefix: string | null;
  created_by: string | null;
}

export interface Database
  extends PaymentTables,
    ClusterTables,
    PayDriverTables,
    PaymentAutomationTables,
    SecurityTables {
  api_keys: ApiKeysTable;
  operators: OperatorsTable;
  locations: LocationsTable;
  stations: StationsTable;
  evses: EvsesTable;
  id_tokens: IdTokensTable;
  tariffs: TariffsTable;
  tariff_versions: TariffVersionsTable;
  tariff_assignments: TariffAssignmentsTable;
  sessions: SessionsTable;
  meter_samples: MeterSamplesTable;
  session_states: SessionStatesTable;
  cdrs: CdrsTable;
  ocpp_messages: OcppMessagesTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_postings: LedgerPostingsTable;
  invoice_sellers: InvoiceSellersTable;
  invoice_billing_plans: InvoiceBillingPlansTable;
  invoice_counters: InvoiceCountersTable;
  invoices: InvoicesTable;
  invoice_sessions: InvoiceSessionsTable;
  reconciliation_runs: ReconciliationRunsTable;
  ocpp_transaction_events: OcppTransactionEventsTable;
  audit_log: AuditLogTable;
  audit_chain_heads: AuditChainHeadsTable;
  encryption_keys: EncryptionKeysTable;
  fleets: FleetsTable;
  customers: CustomersTable;
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
  refresh_tokens: RefreshTokensTable;
  meters: MetersTable;
  session_signed_values: SessionSignedValuesTable;
  review_decisions: ReviewDecisionsTable;
}

export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type StationRow = Selectable<StationsTable>;
export type CdrRow = Selectable<CdrsTable>;

// migrations/0005_accounts_audit.sql: audit log.
export interface AuditLogTable {
  id: Generated<bigint>;
  operator_id: string;
  seq: bigint;
  at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  before: ColumnType<unknown, unknown, never>;
  after: ColumnType<unknown, unknown, never>;
  ip: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadsTable {
  operator_id: string;
  seq: bigint;
  hash: string;
}

// migrations/0003_station_security.sql: OCPP 2.0.1 TransactionEvents, each stored once per seqNo.
export interface OcppTransactionEventsTable {
  station_id: string;
  transaction_id: string;
  seq_no: number;
  event_type: 'Started' | 'Updated' | 'Ended';
  event_at: Date;
  offline: Generated<boolean>;
  /** Null for a reading applied as it was stored (migration 0020): its frame is in the message log. */
  payload: Json<unknown> | null;
  received_at: Date;
  applied_at: Date | null;
}

// migrations/0004_ledger_invoices.sql: ledger, invoices, reconciliation runs.
export type LedgerAccountKind = 'asset' | 'liability' | 'revenue' | 'expense' | 'equity';
export type LedgerTransferKind = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'reversal';

export interface LedgerAccountsTable {
  id: string;
  operator_id: string;
  code: string;
  currency: string;
  kind: LedgerAccountKind;
  created_at: CreatedAt;
}

export interface LedgerTransfersTable {
  id: string;
  operator_id: string;
  currency: string;
  kind: LedgerTransferKind;
  idempotency_key: string;
  content_hash: string;
  cause_type: string;
  cause_id: string;
  invoice_id: string | null;
  pending_id: string | null;
  reverses_id: string | null;
  description: Generated<string>;
  created_at: CreatedAt;
}

export interface LedgerPostingsTable {
  id: Generated<bigint>;
  transfer_id: string;
  account_id: string;
  currency: string;
  amount_minor: bigint;
  pending: Generated<boolean>;
}

export interface InvoiceSellersTable {
  operator_id: string;
  legal_name: string;
  street: string;
  city: string;
  postal_code: string;
  country_code: string;
  vat_id: string | null;
  email: string | null;
  iban: string | null;
  payment_terms_days: Generated<number>;
}

export interface InvoiceBillingPlansTable {
  id_token_id: string;
  operator_id: string;
  mode: 'per_session' | 'monthly';
  customer_id: string | null;
  buyer_name: string | null;
  buyer_vat_id: string | null;
  buyer_street: string | null;
  buyer_city: string | null;
  buyer_postal_code: string | null;
  buyer_country_code: string | null;
}

export interface InvoiceCountersTable {
  operator_id: string;
  series: string;
  next_number: Generated<bigint>;
}

export type InvoiceKind = 'invoice' | 'statement' | 'credit_note';

export interface InvoicesTable {
  id: Generated<string>;
  operator_id: string;
  kind: InvoiceKind;
  series: string;
  number: bigint;
  invoice_number: string;
  credits_invoice_id: string | null;
  id_token_id: string | null;
  customer_id: string | null;
  currency: string;
  total_excl_vat_minor: bigint;
  total_vat_minor: bigint;
  total_incl_vat_minor: bigint;
  document: Json<unknown>;
  issued_at: Date;
  tax_point_date: ColumnType<string, string, never>;
  period_start: Date | null;
  period_end: Date | null;
}

export interface InvoiceSessionsTable {
  invoice_id: string;
  session_id: string;
  cdr_id: string;
  total_excl_vat_minor: bigint;
  total_incl_vat_minor: bigint;
}

export interface ReconciliationRunsTable {
  id: Generated<bigint>;
  started_at: Date;
  finished_at: Date;
  period_from: Date | null;
  period_to: Date | null;
  clean: boolean;
  differences: number;
  report: Json<unknown>;
}

export type InvoiceRow = Selectable<InvoicesTable>;

// migrations/0002_meters_review.sql: meter registry, raw signed meter values, review decisions.
export interface MetersTable {
  id: Generated<string>;
  operator_id: string;
  station_id: string;
  evse_id: number;
  serial: string;
  model: string | null;
  public_key: string | null;
  key_source: 'configured' | 'pinned' | null;
  key_pinned_at: Date | null;
  calibration_certificate_ref: string | null;
  /** 'YYYY-MM-DD' (the date parser of open-database.ts keeps dates as text). */
  last_calibrated_on: string | null;
  calibration_valid_until: string | null;
  signed_data_required: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SessionSignedValuesTable {
  id: Generated<bigint>;
  session_id: string;
  source: 'MeterValues' | 'StopTransaction' | 'TransactionEvent';
  sampled_at: Date | null;
  context: string | null;
  raw: string;
  raw_sha256: string;
  received_at: CreatedAt;
}

export interface ReviewDecisionsTable {
  id: Generated<string>;
  operator_id: string;
  session_id: string;
  decision: 'release' | 'void';
  reason: string;
  actor: string;
  decided_at: Date;
}

// migrations/0005_accounts_audit.sql: encryption keys, accounts, sign-in.
export interface EncryptionKeysTable {
  id: Generated<string>;
  purpose: 'data' | 'blind-index';
  active: Generated<boolean>;
  master_key_id: string;
  wrapped_key: string;
  created_at: CreatedAt;
  rewrapped_at: Date | null;
}

export interface FleetsTable {
  id: Generated<string>;
  operator_id: string;
  name: string;
  billing_email_enc: string | null;
  billing_address_enc: string | null;
  created_at: CreatedAt;
}

export interface CustomersTable {
  id: Generated<string>;
  operator_id: string;
  fleet_id: string | null;
  name_enc: string;
  email_enc: string | null;
  email_index: string | null;
  address_enc: string | null;
  provider_customer_id_enc: string | null;
  created_at: CreatedAt;
}

export type UserRole = ApiRole | 'driver';

export interface UsersTable {
  id: Generated<string>;
  operator_id: string;
  email_index: string;
  email_enc: string;
  name_enc: string | null;
  password_hash: string;
  role: UserRole;
  customer_id: string | null;
  created_at: CreatedAt;
  disabled_at: Date | null;
  last_sign_in_at: Date | null;
  failed_sign_ins: Generated<number>;
  locked_until: Date | null;
}

export interface AuthSessionsTable {
  id: Generated<string>;
  operator_id: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  ip: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

// Payments (migrations/0006_payments.sql).
export type PaymentStatusColumn =
  | 'pending'
  | 'requires_authentication'
  | 'authorized'
  | 'captured'
  | 'partially_refunded'
  | 'refunded'
  | 'voided'
  | 'failed';

export interface PaymentMethodsTable {
  id: Generated<string>;
  operator_id: string;
  id_token_id: string | null;
  customer_id: string | null;
  provider: 'sandbox' | 'stripe';
  provider_customer_id: string;
  token: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  status: Generated<'active' | 'blocked'>;
  failure_count: Generated<number>;
  blocked_reason: string | null;
  created_at: CreatedAt;
}

export interface WalletsTable {
  id: Generated<string>;
  operator_id: string;
  id_token_id: string | null;
  currency: string;
  balance_minor: Generated<bigint>;
  created_at: CreatedAt;
}

export interface WalletEntriesTable {
  id: Generated<bigint>;
  wallet_id: string;
  kind: 'top_up' | 'session_debit' | 'refund' | 'correction';
  amount_minor: bigint;
  idempotency_key: string;
  session_id: string | null;
  payment_id: string | null;
  created_at: CreatedAt;
}

export interface PaymentProfilesTable {
  id_token_id: string;
  operator_id: string;
  method: 'card' | 'wallet' | 'invoice';
  payment_method_id: string | null;
  wallet_id: string | null;
  hold_minor: bigint | null;
}

export interface PaymentsTable {
  id: Generated<string>;
  operator_id: string;
  kind: 'session' | 'adhoc' | 'extra' | 'wallet_top_up' | 'wallet_debit' | 'dunning';
  provider: 'sandbox' | 'stripe' | 'wallet';
  session_id: string | null;
  id_token_id: string | null;
  payment_method_id: string | null;
  wallet_id: string | null;
  payment_method_token: string | null;
  provider_customer_id: string | null;
  provider_payment_id: string | null;
  currency: string;
  requested_minor: bigint;
  authorized_minor: Generated<bigint>;
  captured_minor: Generated<bigint>;
  refunded_minor: Generated<bigint>;
  due_minor: bigint | null;
  invoice_id: string | null;
  status: Generated<PaymentStatusColumn>;
  hold_expires_at: Date | null;
  failure_code: string | null;
  station_id: string | null;
  evse_id: number | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  /** migrations/0008: a dunning payment names the failed payment it pays. */
  settles_payment_id: string | null;
  /** migrations/0008: the hold a renewal replaced. */
  renewed_from_provider_payment_id: string | null;
  /** migrations/0015: while an outbox step of this payment is being worked (any node); NULL otherwise. */
  outbox_lease_until: Generated<Date | null>;
}

export interface PaymentOutboxTable {
  id: Generated<bigint>;
  payment_id: string;
  action: 'authorize' | 'settle' | 'void' | 'refund' | 'charge' | 'renew' | 'release';
  idempotency_key: string;
  amount_minor: bigint | null;
  refund_id: string | null;
  /** The hold a `release` item releases, never the payment's own (migration 0021); null for every other action. */
  provider_payment_id: string | null;
  status: Generated<'pending' | 'done' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  locked_until: Date | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface PaymentWebhookEventsTable {
  provider: string;
  event_id: string;
  type: string;
  provider_payment_id: string | null;
  received_at: CreatedAt;
}

export interface PaymentRefundsTable {
  id: Generated<string>;
  payment_id: string;
  amount_minor: bigint;
  reason: string;
  requested_by: string;
  status: Generated<'pending' | 'succeeded' | 'failed'>;
  provider_refund_id: string | null;
  with_credit_note: Generated<boolean>;
  credit_note_id: string | null;
  created_at: CreatedAt;
}

export interface PaymentDunningTable {
  payment_id: string;
  operator_id: string;
  failure_code: string;
  notified_at: Date;
  resolved_at: Date | null;
  amount_minor: bigint | null;
  currency: string | null;
  paid_by_payment_id: string | null;
}

export interface PaymentDecisionsTable {
  id: Generated<bigint>;
  operator_id: string;
  subject_type: string;
  subject_id: string;
  decision: string;
  reason: string;
  at: CreatedAt;
}

export interface PaymentTables {
  payment_methods: PaymentMethodsTable;
  wallets: WalletsTable;
  wallet_entries: WalletEntriesTable;
  payment_profiles: PaymentProfilesTable;
  payments: PaymentsTable;
  payment_outbox: PaymentOutboxTable;
  payment_webhook_events: PaymentWebhookEventsTable;
  payment_refunds: PaymentRefundsTable;
  payment_dunning: PaymentDunningTable;
  payment_decisions: PaymentDecisionsTable;
}
export type PaymentRow = Selectable<PaymentsTable>;
export type PaymentOutboxRow = Selectable<PaymentOutboxTable>;

// migrations/0010_cluster.sql: multi-node scale-out (src/cluster/).
export interface ClusterNodesTable {
  node_id: string;
  started_at: Date;
  heartbeat_at: Date;
  expires_at: Date;
}
export interface StationPresenceTable {
  station_id: string;
  node_id: string;
  protocol: string;
  connected_at: Date;
  last_seen_at: Date;
}
export interface ClusterJobsTable {
  name: string;
  next_run_at: Date;
  last_node_id: string | null;
  last_claimed_at: Date | null;
}
export interface ClusterMessagesTable {
  id: Generated<bigint>;
  body: string;
  created_at: Generated<Date>;
}
export interface ClusterTables {
  cluster_nodes: ClusterNodesTable;
  station_presence: StationPresenceTable;
  cluster_jobs: ClusterJobsTable;
  cluster_messages: ClusterMessagesTable;
}

// migrations/0009_pay_driver.sql: the driver's side of an ad-hoc payment (src/api/routes/pay-driver.ts).
export interface PayDriverLinksTable {
  payment_id: string;
  remote_start: 'Accepted' | 'Rejected' | 'Unavailable' | 'NotYet';
  receipt_email_enc: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}
export interface PayDriverTables {
  pay_driver_links: PayDriverLinksTable;
}

// migrations/0008_payment_automation.sql: authorization decisions, disputes, notifications (src/notifications/).
export interface AuthorizationDecisionsTable {
  id: Generated<bigint>;
  operator_id: string;
  id_token_id: string | null;
  id_tag: string;
  payment_method_id: string | null;
  station_id: string | null;
  evse_id: number | null;
  purpose: 'authorize' | 'start';
  status: 'Accepted' | 'Blocked' | 'Invalid' | 'Expired' | 'ConcurrentTx';
  reason: string;
  detail: string | null;
  session_id: string | null;
  at: Date;
}
export interface PaymentDisputesTable {
  id: Generated<string>;
  operator_id: string;
  payment_id: string;
  provider: string;
  provider_dispute_id: string;
  currency: string;
  amount_minor: bigint;
  reason: string;
  status: 'open' | 'won' | 'lost';
  credit_note_id: string | null;
  opened_at: Date;
  closed_at: Date | null;
}
export interface NotificationEndpointsTable {
  id: Generated<string>;
  operator_id: string;
  url: string;
  secret_enc: string;
  event_types: Generated<string[]>;
  active: Generated<boolean>;
  created_at: CreatedAt;
}
export interface NotificationsTable {
  id: Generated<string>;
  operator_id: string;
  type: string;
  dedupe_key: string;
  id_token_id: string | null;
  payload: unknown;
  status: Generated<'pending' | 'dispatched'>;
  created_at: Date;
  dispatched_at: Date | null;
}
export interface NotificationDeliveriesTable {
  id: Generated<bigint>;
  notification_id: string;
  endpoint_id: string;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Date;
  locked_until: Date | null;
  last_error: string | null;
  response_status: number | null;
  delivered_at: Date | null;
}
export interface EmailOutboxTable {
  id: Generated<bigint>;
  operator_id: string;
  notification_id: string;
  recipient_enc: string;
  subject: string;
  body_enc: string;
  status: Generated<'pending' | 'sent' | 'failed'>;
  created_at: Date;
  sent_at: Date | null;
}
export interface PaymentAutomationTables {
  authorization_decisions: AuthorizationDecisionsTable;
  payment_disputes: PaymentDisputesTable;
  notification_endpoints: NotificationEndpointsTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  email_outbox: EmailOutboxTable;
}

/** Migration 0007: request counters shared by all nodes for the API's rate limits. */
export interface RateLimitWindowsTable {
  /** HMAC-SHA256 (hex) of the rate-limit key: the client address or the credential, never in clear. */
  bucket: string;
  window_start: Date;
  hits: number;
}

export interface SecurityTables {
  rate_limit_windows: RateLimitWindowsTable;
}
