"""benchmarks/scale.py: the ratios, and reading auto_explain's plans back from the server's log."""

from __future__ import annotations

import json
from typing import Any

from benchmarks import scale


def _entry(moment: str, pid: int, duration: float, query: str, plan: dict[str, Any]) -> str:
    """One auto_explain entry as PostgreSQL's stderr log writes it: continuation lines start with a tab."""
    document = json.dumps({"Query Text": query, "Plan": plan}, indent=2)
    return f"2026-11-22 {moment} UTC [{pid}] LOG:  duration: {duration} ms  plan:\n\t" + document.replace("\n", "\n\t")


def _scan(node: str, table: str, index: str | None = None, removed: int = 0) -> dict[str, Any]:
    plan: dict[str, Any] = {"Node Type": node, "Relation Name": table, "Actual Rows": 1}
    if index:
        plan["Index Name"] = index
    if removed:
        plan["Rows Removed by Filter"] = removed
    return plan


BY_PAYMENT = "SELECT id FROM payment_transactions\nWHERE kb_tenant_id = $1 AND kb_payment_id = $2"
LOG = "\n".join([
    "2026-11-22 08:05:33.100 UTC [17196] LOG:  checkpoint starting: time",
    _entry("08:05:33.702", 25432, 0.5, BY_PAYMENT, {"Node Type": "Sort", "Plans": [
        _scan("Index Scan", "payment_transactions", "ix_payment_transactions_payment")]}),
    _entry("08:05:33.800", 25433, 1.5, BY_PAYMENT, {"Node Type": "Sort", "Plans": [
        _scan("Index Scan", "payment_transactions", "ix_payment_transactions_hs_refund", removed=400)]}),
    _entry("08:05:34.000", 25433, 40.0, "SELECT count(*) FROM jobs WHERE kind = $1",
           {"Node Type": "Aggregate", "Plans": [_scan("Seq Scan", "jobs", removed=100_000)]}),
    _entry("08:05:34.100", 25434, 0.2, "SELECT * FROM rate_buckets WHERE key = $1", _scan("Seq Scan", "rate_buckets")),
    "2026-11-22 08:05:35.000 UTC [17196] LOG:  checkpoint complete: wrote 6 buffers",
])


def test_plans_are_grouped_by_statement_slowest_in_all_first() -> None:
    plans = scale.statements(LOG)
    assert [plan["query"] for plan in plans] == [
        "SELECT count(*) FROM jobs WHERE kind = $1",
        "SELECT id FROM payment_transactions WHERE kb_tenant_id = $1 AND kb_payment_id = $2",
        "SELECT * FROM rate_buckets WHERE key = $1"]
    by_payment = plans[1]
    assert (by_payment["calls"], by_payment["total_ms"], by_payment["mean_ms"], by_payment["max_ms"]) == (2, 2.0, 1.0, 1.5)
    assert by_payment["scans"] == ["Index Scan on payment_transactions using ix_payment_transactions_hs_refund",
                                   "Index Scan on payment_transactions using ix_payment_transactions_payment"]
    assert by_payment["rows_removed_by_filter"] == 400


def test_suspicious_plans_read_a_volume_table_without_an_index_or_throw_most_rows_away() -> None:
    suspicious = [plan["query"] for plan in scale.suspicious(scale.statements(LOG))]
    # A sequential scan of the tiny rate_buckets table is the right plan; 200 rows thrown away per call is not much.
    assert suspicious == ["SELECT count(*) FROM jobs WHERE kind = $1"]


def test_ratios_of_the_full_database_to_the_empty_one() -> None:
    def figures(p50: float, stored: float | None) -> dict[str, Any]:
        webhooks = {} if stored is None else {"hyperswitch_ingestion": {"per_second": stored, "errors": 0}}
        return {"plugin_calls": {"purchasePayment": {"bridge": {"p50_ms": p50, "errors": 1}}}, "webhooks": webhooks}

    ratios = scale.ratios(figures(10.0, 200.0), figures(12.5, None))
    assert ratios["purchasePayment p50 ms"] == {"empty": 10.0, "full": 12.5, "ratio": 1.25}
    assert ratios["Hyperswitch webhooks stored/s"] == {"empty": 200.0, "full": None, "ratio": None}
    assert scale.errors(figures(10.0, 200.0)) == 1
