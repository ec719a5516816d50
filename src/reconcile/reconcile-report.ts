/** What a reconciliation run found: one entry per check, and every difference with what was expected. */
export const RECONCILE_CHECKS = [
  'billed_sessions_have_one_cdr',
  'billed_sessions_on_one_invoice',
  'invoice_totals_equal_cdr_totals',
  'sessions_booked_in_ledger',
  'ledger_balanced',
  'captures_equal_paid_invoices',
  'invoice_numbers_gapless',
] as const;

export type ReconcileCheck = (typeof RECONCILE_CHECKS)[number];

export type Difference = {
  readonly check: ReconcileCheck;
  readonly operatorId: string;
  /** What differs: a session, invoice, account or series, as 'session:<id>', 'invoice:INV-00000007', ... */
  readonly subject: string;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
};

export type ReconcileReport = {
  readonly from: string | null;
  readonly to: string | null;
  readonly checkedAt: string;
  readonly clean: boolean;
  readonly checks: readonly { readonly check: ReconcileCheck; readonly differences: number }[];
  readonly differences: readonly Difference[];
  readonly counted: { readonly sessions: number; readonly invoices: number; readonly transfers: number };
};

/** The report as text for a terminal: one line per check, then the differences. */
export function formatReconcileReport(report: ReconcileReport): string {
  const range = `${report.from ?? 'beginning'} to ${report.to ?? 'now'}`;
  const lines = [
    `Reconciliation ${range} (checked ${report.checkedAt}): ${report.counted.sessions} sessions, ` +
      `${report.counted.invoices} invoices, ${report.counted.transfers} ledger transfers`,
  ];
  for (const check of report.checks) {
    lines.push(
      `  ${check.differences === 0 ? 'ok  ' : 'FAIL'}  ${check.check}${check.differences ? ` (${check.differences})` : ''}`,
    );
  }
  for (const d of report.differences) {
    const detail = d.expected !== undefined ? ` (expected ${d.expected}, found ${d.actual})` : '';
    lines.push(`  - [${d.check}] ${d.subject}: ${d.message}${detail}`);
  }
  lines.push(report.clean ? 'CLEAN: no differences.' : `DIFFERENCES: ${report.differences.length} found.`);
  return lines.join('\n');
}
