"""The soak's verdict, from what each side holds once the run has settled (pure functions, no I/O).

(a) every Kill Bill transaction equals the Hyperswitch truth: a success is a Hyperswitch object that succeeded
    with the same amount; a failure means no money moved; PENDING/UNKNOWN only when Hyperswitch explains it;
(b) no Hyperswitch payment or refund exists twice for one Kill Bill transaction, and none without one;
(c) every webhook Hyperswitch delivered and every push notification Kill Bill delivered is stored by the bridge
    and processed; no job is dead or left undone.

Each check adds to ``counts`` (what agreed, what is explained and why) and to ``problems`` (one readable line per
disagreement); the soak passes when there are no problems.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.payments import ids
from hyperswitch_client import to_minor_units

# Hyperswitch statuses: money moved, or may still move (reference/hyperswitch.md §4-5).
PAYMENT_SUCCEEDED = frozenset({"succeeded"})
PAYMENT_IN_PROGRESS = frozenset({"processing", "requires_customer_action", "requires_merchant_action",
                                 "requires_confirmation", "requires_payment_method", "requires_capture"})
REFUND_SUCCEEDED = frozenset({"succeeded"})
REFUND_IN_PROGRESS = frozenset({"pending", "review"})
FAILED_IN_KILL_BILL = frozenset({"PAYMENT_FAILURE", "PLUGIN_FAILURE", "PAYMENT_SYSTEM_OFF"})
DONE_EVENT_STATES = frozenset({"processed", "skipped"})
# Listed by the audit, at most this many lines per kind of problem (the counts say how many in all).
MAX_LINES_PER_KIND = 20


@dataclass(frozen=True)
class KbTransaction:
    kb_tenant_id: str
    kb_payment_id: str
    kb_transaction_id: str
    transaction_type: str  # PURCHASE, REFUND, ...
    status: str  # Kill Bill's TransactionStatus
    amount: Decimal
    currency: str


@dataclass
class Verdict:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    _per_kind: Counter[str] = field(default_factory=Counter)

    def problem(self, kind: str, line: str) -> None:
        """One disagreement; counted under ``problem.<kind>``, listed up to MAX_LINES_PER_KIND times."""
        self.counts[f"problem.{kind}"] += 1
        self._per_kind[kind] += 1
        if self._per_kind[kind] <= MAX_LINES_PER_KIND:
            self.problems.append(f"{kind}: {line}")

    def merge(self, other: Verdict) -> Verdict:
        self.counts.update(other.counts)
        self.problems.extend(other.problems)
        return self


@dataclass(frozen=True)
class _Truth:
    """What Hyperswitch holds for one Kill Bill transaction (None: nothing)."""

    status: str | None
    minor: int | None  # what it received or refunded
    moved: bool
    in_progress: bool


def _truth(row: Mapping[str, Any] | None, succeeded: frozenset[str], in_progress: frozenset[str],
           amount_field: str) -> _Truth:
    if row is None:
        return _Truth(None, None, False, False)
    status = str(row["status"])
    return _Truth(status, row.get(amount_field), status in succeeded, status in in_progress)


# -- (a) and (b): transactions against Hyperswitch -----------------------------------------------------------
def check_transactions(transactions: Iterable[KbTransaction], merchants: Mapping[str, str],
                       hs_payments: Iterable[Mapping[str, Any]], hs_refunds: Iterable[Mapping[str, Any]], *,
                       earlier: tuple[Iterable[Mapping[str, Any]], Iterable[Mapping[str, Any]]] | None = None,
                       ) -> Verdict:
    """``merchants``: Kill Bill tenant id → its Hyperswitch merchant id; the overviews as the simulator lists them,
    read after Kill Bill's transactions. ``earlier``: the same overviews read before them, where an object without
    a Kill Bill transaction is looked for (Kill Bill writes a transaction before the plugin makes its object, so
    every object of that earlier read has its transaction in Kill Bill's, even while Kill Bill keeps working)."""
    verdict = Verdict()
    payments = {(row["merchant_id"], row["payment_id"]): row for row in hs_payments}
    refunds = {(row["merchant_id"], row["refund_id"]): row for row in hs_refunds}
    accounted: set[tuple[str, str]] = set()
    for txn in transactions:
        merchant = merchants[txn.kb_tenant_id]
        if txn.transaction_type == "PURCHASE":
            key = (merchant, ids.payment_id(txn.kb_transaction_id))
            truth = _truth(payments.get(key), PAYMENT_SUCCEEDED, PAYMENT_IN_PROGRESS, "amount_received")
        elif txn.transaction_type == "REFUND":
            key = (merchant, ids.refund_id(txn.kb_transaction_id))
            truth = _truth(refunds.get(key), REFUND_SUCCEEDED, REFUND_IN_PROGRESS, "amount")
        else:
            verdict.problem("unexpected_transaction", f"{txn.transaction_type} {txn.kb_transaction_id}: the soak "
                                                      "makes only purchases and refunds")
            continue
        accounted.add(key)
        verdict.counts[f"kb.{txn.transaction_type.lower()}.{txn.status}"] += 1
        _compare(verdict, txn, truth)
    if earlier is not None:
        payments_before = {(row["merchant_id"], row["payment_id"]): row for row in earlier[0]}
        refunds_before = {(row["merchant_id"], row["refund_id"]): row for row in earlier[1]}
    else:
        payments_before, refunds_before = payments, refunds
    _orphans(verdict, payments_before, refunds_before, accounted, set(merchants.values()))
    _duplicates(verdict, payments.values(), "payment_id", ids.payment_id, "payment")
    _duplicates(verdict, refunds.values(), "refund_id", ids.refund_id, "refund")
    verdict.counts["hs.create_retries"] = sum(max(0, int(row.get("create_calls") or 1) - 1)
                                              for row in payments.values())
    return verdict


def _compare(verdict: Verdict, txn: KbTransaction, truth: _Truth) -> None:
    what = f"{txn.transaction_type} {txn.kb_transaction_id} ({txn.amount} {txn.currency})"
    seen = truth.status or "nothing"
    if txn.status == "SUCCESS":
        expected = to_minor_units(txn.amount, txn.currency)
        if not truth.moved:
            verdict.problem("success_without_money", f"{what} is SUCCESS in Kill Bill, Hyperswitch has {seen}")
        elif truth.minor != expected:
            verdict.problem("amount_differs", f"{what}: Kill Bill {expected}, Hyperswitch {truth.minor} minor units")
        else:
            verdict.counts["agree.success"] += 1
    elif txn.status in FAILED_IN_KILL_BILL:
        if truth.moved or truth.in_progress:
            verdict.problem("failure_but_money_moved", f"{what} is {txn.status} in Kill Bill, Hyperswitch has {seen}")
        else:
            verdict.counts["agree.failure_no_money"] += 1
    elif txn.status == "PENDING":
        if truth.in_progress:
            verdict.counts["explained.pending_in_hyperswitch"] += 1
        else:
            verdict.problem("pending_not_in_progress", f"{what} is PENDING in Kill Bill, Hyperswitch has {seen}")
    elif txn.status == "UNKNOWN":
        if truth.status is None:
            # Nothing reached Hyperswitch (no money moved); the bridge calls it CANCELED once its
            # never-received grace (bridge.payments.service.NEVER_RECEIVED_AFTER) has passed.
            verdict.counts["explained.unknown_never_reached_hyperswitch"] += 1
        else:
            verdict.problem("unknown_not_reconciled", f"{what} is UNKNOWN in Kill Bill, Hyperswitch has {seen}")
    else:
        verdict.problem("unexpected_status", f"{what} is {txn.status} in Kill Bill")


def _orphans(verdict: Verdict, payments: Mapping[tuple[str, str], Mapping[str, Any]],
             refunds: Mapping[tuple[str, str], Mapping[str, Any]], accounted: set[tuple[str, str]],
             merchants: set[str]) -> None:
    """Objects the bridge made (their ids derive from a Kill Bill id) that no Kill Bill transaction carries."""
    for table, kind, moved in ((payments, ids.IdKind.PAYMENT, PAYMENT_SUCCEEDED | PAYMENT_IN_PROGRESS),
                               (refunds, ids.IdKind.REFUND, REFUND_SUCCEEDED | REFUND_IN_PROGRESS)):
        for key, row in table.items():
            parsed = ids.parse(key[1])
            if key[0] not in merchants or parsed is None or parsed[0] is not kind or key in accounted:
                continue
            if row["status"] in moved:
                verdict.problem("money_without_kill_bill", f"{key[1]} ({row['status']}, {row.get('amount')}) has "
                                                           "no Kill Bill transaction")
            else:
                verdict.counts[f"hs.{kind.name.lower()}_without_kill_bill_no_money"] += 1


def _duplicates(verdict: Verdict, rows: Iterable[Mapping[str, Any]], id_field: str, derive: Any, what: str) -> None:
    """By the metadata the bridge sets on what it creates: one object per (tenant, Kill Bill transaction)."""
    made: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        metadata = row.get("metadata") or {}
        if "kb_transaction_id" in metadata:
            made[(str(metadata.get("kb_tenant_id")), str(metadata["kb_transaction_id"]))].append(row[id_field])
    for (tenant, kb_transaction_id), hs_ids in made.items():
        verdict.counts[f"hs.{what}s_for_kill_bill"] += 1
        if len(hs_ids) > 1:
            verdict.problem(f"duplicate_{what}", f"Kill Bill transaction {kb_transaction_id} (tenant {tenant}) "
                                                 f"has {len(hs_ids)} Hyperswitch {what}s: {sorted(hs_ids)}")
        elif hs_ids[0] != derive(kb_transaction_id):
            verdict.problem(f"{what}_id_not_derived", f"{hs_ids[0]} carries Kill Bill transaction {kb_transaction_id}")


# -- (c): nothing lost on the way in -----------------------------------------------------------------------
def check_inbox(hs_deliveries: Iterable[Mapping[str, Any]], kb_deliveries: Iterable[Mapping[str, Any]],
                events: Iterable[Mapping[str, Any]], jobs_by_state: Mapping[str, int]) -> Verdict:
    """``events``: the bridge's inbound_events rows (source, kb_tenant_id, event_key, body, state), read after
    ``hs_deliveries`` / ``kb_deliveries``, the simulators' delivery logs (what was acknowledged was stored before)."""
    verdict = Verdict()
    stored = list(events)
    for row in stored:
        verdict.counts[f"bridge.events.{row['source']}.{row['state']}"] += 1
        if row["state"] not in DONE_EVENT_STATES:
            verdict.problem("event_not_processed", f"{row['source']} event {row['event_key']} is {row['state']}")
    _webhooks(verdict, hs_deliveries, {row["event_key"]: row["state"] for row in stored
                                       if row["source"] == "hyperswitch"})
    _pushes(verdict, kb_deliveries, {(row["kb_tenant_id"], row["body"]) for row in stored
                                     if row["source"] == "killbill"})
    for state, count in jobs_by_state.items():
        verdict.counts[f"bridge.jobs.{state}"] += count
        if state == "dead" and count:
            verdict.problem("dead_jobs", f"{count} job(s) dead")
        if state in ("pending", "running") and count:
            verdict.problem("jobs_not_drained", f"{count} job(s) still {state}")
    return verdict


def _webhooks(verdict: Verdict, deliveries: Iterable[Mapping[str, Any]], stored: Mapping[str, str]) -> None:
    copies: defaultdict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for delivery in deliveries:
        copies[delivery["event_id"]].append(delivery)
        verdict.counts["webhooks.copies_sent"] += 1
        verdict.counts["webhooks.duplicate_copies"] += delivery.get("copy", 0) > 0
        for attempt in delivery.get("attempts", []):
            if not _ok(attempt.get("status_code")):
                verdict.counts[f"webhooks.failed_attempts.{_failure(attempt.get('status_code'), attempt)}"] += 1
    for event_id, sent in copies.items():
        verdict.counts["webhooks.events"] += 1
        if not any(copy["state"] == "delivered" for copy in sent):
            tries = "; ".join(f"{attempt.get('at')} {_failure(attempt.get('status_code'), attempt)}"
                              for copy in sent for attempt in copy.get("attempts", []))
            verdict.problem("webhook_never_acknowledged", f"{sent[0]['event_type']} {event_id}: "
                                                          f"{[copy['state'] for copy in sent]} ({tries})")
        elif event_id not in stored:
            verdict.problem("webhook_lost", f"{sent[0]['event_type']} {event_id} was acknowledged, not stored")
        else:
            verdict.counts["webhooks.events_stored"] += 1


def _pushes(verdict: Verdict, deliveries: Iterable[Mapping[str, Any]], stored: set[tuple[str, str]]) -> None:
    for delivery in deliveries:
        verdict.counts["pushes.sent"] += 1
        for attempt in delivery.get("attempts", []):
            if not _ok(attempt.get("status")):
                verdict.counts[f"pushes.failed_attempts.{_failure(attempt.get('status'), attempt)}"] += 1
        if not delivery["delivered"]:
            state = "dropped after Kill Bill's last retry" if delivery.get("dropped") else "still being retried"
            tries = "; ".join(f"{attempt.get('at')} {_failure(attempt.get('status'), attempt)}"
                              for attempt in delivery.get("attempts", []))
            verdict.problem("push_never_acknowledged", f"push {delivery['id']} {delivery['body'][:120]}: {state} "
                                                       f"({tries})")
        elif (delivery["tenantId"], delivery["body"]) not in stored:
            verdict.problem("push_lost", f"push {delivery['id']} {delivery['body'][:120]} was acknowledged, "
                                         "not stored")
        else:
            verdict.counts["pushes.stored"] += 1


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _failure(status: int | None, attempt: Mapping[str, Any]) -> str:
    """The HTTP status of a failed attempt, or the class of its transport error (ConnectionError, ReadTimeout)."""
    return str(status) if status is not None else str(attempt.get("error") or "no_answer").split(":")[0]
