"""The simulator's in-memory state and its control operations (also served under ``/__sim``).

One re-entrant lock guards every object; routes and control methods take it for the whole operation, so
concurrent requests see the router's one-at-a-time semantics per call. Webhook deliveries and fault
decisions have their own locks and never block the API.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import customers, disputes, errors, payments, payouts, refunds, webhooks
from .faults import FaultInjector
from .model import (ApiKey, Customer, Dispute, Mandate, Merchant, Payment, PaymentLink, PaymentMethod, Payout, Profile,
                    Refund)
from .webhooks import WebhookDispatcher

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatorState:
    """Merchants, their objects, webhook deliveries and fault rules; thread-safe."""

    def __init__(self, *, clock: Clock = _utc_now, public_url: str | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.merchants: dict[str, Merchant] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.webhooks = WebhookDispatcher(lambda: self.clock())
        self.faults = FaultInjector()
        self._clear_objects()

    def _clear_objects(self) -> None:
        self.payments: dict[tuple[str, str], Payment] = {}
        self.create_calls: Counter[tuple[str, str]] = Counter()
        self.refunds: dict[tuple[str, str], Refund] = {}
        self.customers: dict[tuple[str, str], Customer] = {}
        self.payment_methods: dict[str, PaymentMethod] = {}
        self.payment_tokens: dict[str, str] = {}
        self.mandates: dict[str, Mandate] = {}
        self.payment_links: dict[str, PaymentLink] = {}
        self.disputes: dict[str, Dispute] = {}
        self.refund_behaviour: dict[tuple[str, str | None], str] = {}
        self.payouts: dict[tuple[str, str], Payout] = {}
        self.payout_create_calls: Counter[tuple[str, str]] = Counter()
        self.payout_behaviour: dict[tuple[str, str | None], str] = {}
        self._sent_events: set[tuple[str, str, str]] = set()

    # -- merchants and profiles ----------------------------------------------------------------

    def add_merchant(self, merchant_id: str, api_key: str, profile_id: str, *, publishable_key: str,
                     payment_response_hash_key: str, webhook_url: str | None = None) -> None:
        """Register a merchant (or another profile and key of a known one); the key defaults to the profile."""
        with self.lock:
            merchant = self.merchants.setdefault(merchant_id, Merchant(merchant_id, publishable_key))
            self._add_profile(merchant, profile_id, payment_response_hash_key, webhook_url)
            self.api_keys[api_key] = ApiKey(api_key, merchant_id, profile_id)

    def seed_merchant(self, merchant: Mapping[str, str], webhook_url: str | None = None) -> None:
        """``add_merchant`` from one dict of its fields (``DEMO_MERCHANT`` and the tests' merchants)."""
        fields = dict(merchant)
        self.add_merchant(fields.pop("merchant_id"), fields.pop("api_key"), fields.pop("profile_id"),
                          webhook_url=webhook_url, **fields)

    def add_profile(self, merchant_id: str, profile_id: str, *, payment_response_hash_key: str,
                    webhook_url: str | None = None) -> None:
        with self.lock:
            self._add_profile(self.merchants[merchant_id], profile_id, payment_response_hash_key, webhook_url)

    def _add_profile(self, merchant: Merchant, profile_id: str, hash_key: str, webhook_url: str | None) -> None:
        if profile_id in merchant.profiles:
            return
        details = {"webhook_url": webhook_url} if webhook_url else None
        merchant.profiles[profile_id] = Profile(profile_id, merchant.merchant_id, hash_key,
                                                profile_name=profile_id, webhook_details=details)

    def authenticate(self, api_key: str | None) -> ApiKey:
        key = self.api_keys.get((api_key or "").strip())
        if key is None:
            raise errors.unauthorized()
        return key

    def profile(self, merchant_id: str, profile_id: str) -> Profile | None:
        merchant = self.merchants.get(merchant_id)
        return merchant.profiles.get(profile_id) if merchant else None

    # -- bookkeeping used by the resources -----------------------------------------------------

    def count_create_call(self, merchant_id: str, payment_id: str) -> None:
        self.create_calls[(merchant_id, payment_id)] += 1

    def count_payout_create_call(self, merchant_id: str, payout_id: str) -> None:
        self.payout_create_calls[(merchant_id, payout_id)] += 1

    def payout_outcome(self, merchant_id: str, payment_method_id: str | None,
                       default: str | None = "success") -> str | None:
        """The connector's answer to a payout: set for the payment method, else for the merchant."""
        return (self.payout_behaviour.get((merchant_id, payment_method_id)) if payment_method_id else None) \
            or self.payout_behaviour.get((merchant_id, None)) or default

    def refund_outcome(self, merchant_id: str, payment_id: str) -> str:
        return (self.refund_behaviour.get((merchant_id, payment_id))
                or self.refund_behaviour.get((merchant_id, None)) or "succeeded")

    def emit_for_status(self, *, merchant_id: str, profile_id: str | None, object_id: str, status: str,
                        events: dict[str, str], statuses_enabled: str, content_type: str,
                        render: Callable[[], dict[str, Any]], names: tuple[str, ...] = ()) -> None:
        """Emit the event of an object's current status, if it has one and the profile's
        ``<statuses_enabled>`` list (when set) names the status (or one of its other ``names``)."""
        event_type = events.get(status)
        profile = self.profile(merchant_id, profile_id)
        if event_type is None or profile is None:
            return
        enabled = (profile.webhook_details or {}).get(statuses_enabled)
        if enabled and not {status, *names} & set(enabled):
            return
        self.emit(profile, object_id, event_type, content_type, render())

    def emit(self, profile: Profile, object_id: str, event_type: str, content_type: str,
             obj: dict[str, Any]) -> None:
        """Queue a signed event to the profile's webhook URL; at most one per (object, event type)."""
        if not profile.webhook_url:
            return  # skipped silently, nothing recorded (reference §6)
        key = (profile.merchant_id, object_id, event_type)
        if key in self._sent_events:
            return
        self._sent_events.add(key)
        event_id, body = webhooks.envelope(profile.merchant_id, event_type, content_type, obj, self.clock())
        headers = {**webhooks.HEADERS, **(profile.outgoing_webhook_custom_http_headers or {}),
                   "X-Webhook-Signature-512": webhooks.sign(body, profile.payment_response_hash_key)}
        self.webhooks.submit(event_id=event_id, event_type=event_type, merchant_id=profile.merchant_id,
                             profile_id=profile.profile_id, object_id=object_id, url=profile.webhook_url,
                             body=body, headers=headers)

    # -- control: outcomes ---------------------------------------------------------------------

    def settle_payment(self, payment_id: str, status: str, *, merchant_id: str | None = None,
                       error_code: str | None = None, error_message: str | None = None,
                       notify: bool = True) -> dict[str, Any]:
        """Finish a ``processing`` (or pending-3DS) payment as ``succeeded`` or ``failed``."""
        with self.lock:
            payment = self._find(self.payments, payment_id, merchant_id, "payment")
            return payments.settle(self, payment, status, error_code=error_code,
                                   error_message=error_message, notify_merchant=notify)

    def settle_refund(self, refund_id: str, status: str, *, merchant_id: str | None = None,
                      notify: bool = True) -> dict[str, Any]:
        with self.lock:
            refund = self._find(self.refunds, refund_id, merchant_id, "refund")
            return refunds.settle(self, refund, status, notify_merchant=notify)

    def set_refund_behaviour(self, outcome: str, *, merchant_id: str, payment_id: str | None = None) -> None:
        """Outcome of new refunds: for one payment, or (no payment_id) for all of a merchant's."""
        if outcome not in refunds.OUTCOMES:
            raise ValueError(f"outcome must be one of {refunds.OUTCOMES}")
        with self.lock:
            self.refund_behaviour[(merchant_id, payment_id)] = outcome

    def settle_payout(self, payout_id: str, status: str, *, merchant_id: str | None = None,
                      error_code: str | None = None, error_message: str | None = None,
                      notify: bool = True) -> dict[str, Any]:
        """Finish a ``pending`` or ``initiated`` payout as ``success`` (or failed, expired, reversed)."""
        with self.lock:
            payout = self._find(self.payouts, payout_id, merchant_id, "payout")
            return payouts.settle(self, payout, status, error_code=error_code, error_message=error_message,
                                  notify_merchant=notify)

    def set_payout_behaviour(self, outcome: str, *, merchant_id: str, payment_method_id: str | None = None) -> None:
        """What the connector answers to new payouts (see ``payouts.OUTCOMES``): to one saved payment method,
        or (no payment_method_id) to all of a merchant's."""
        if outcome not in payouts.OUTCOMES:
            raise ValueError(f"outcome must be one of {payouts.OUTCOMES}")
        with self.lock:
            self.payout_behaviour[(merchant_id, payment_method_id)] = outcome

    def set_payment_method_behaviour(self, payment_method_id: str, outcome: str) -> None:
        """Outcome of merchant-initiated charges on a saved payment method (see ``cards.OUTCOMES``)."""
        with self.lock:
            customers.set_behaviour(self._get(self.payment_methods, payment_method_id, "payment method"), outcome)

    def set_mandate_behaviour(self, mandate_id: str, outcome: str) -> None:
        with self.lock:
            customers.set_behaviour(self._get(self.mandates, mandate_id, "mandate"), outcome)

    def revoke_mandate(self, mandate_id: str) -> dict[str, Any]:
        """Revoked at the connector (customer or bank): the mandate_revoked webhook goes out."""
        with self.lock:
            return customers.revoke_at_connector(self, self._get(self.mandates, mandate_id, "mandate"))

    def open_dispute(self, payment_id: str, *, merchant_id: str | None = None, amount: int | None = None,
                     reason: str | None = None, reason_code: str | None = None) -> dict[str, Any]:
        with self.lock:
            payment = self._find(self.payments, payment_id, merchant_id, "payment")
            return disputes.open_dispute(self, payment, amount=amount, reason=reason, reason_code=reason_code)

    def set_dispute_status(self, dispute_id: str, status: str) -> dict[str, Any]:
        with self.lock:
            return disputes.change_status(self, self._get(self.disputes, dispute_id, "dispute"), status)

    def win_dispute(self, dispute_id: str) -> dict[str, Any]:
        return self.set_dispute_status(dispute_id, "dispute_won")

    def lose_dispute(self, dispute_id: str) -> dict[str, Any]:
        return self.set_dispute_status(dispute_id, "dispute_lost")

    # -- control: faults and webhooks ----------------------------------------------------------

    def add_fault(self, method: str, path: str, kind: str, **options: Any) -> dict[str, Any]:
        """See ``faults`` for kinds and options (times, probability, seed, latency_ms, status, ...)."""
        return self.faults.add(method, path, kind, **options).to_dict()

    def clear_faults(self) -> None:
        """Every fault rule and the rate limit."""
        self.faults.clear()

    def set_rate_limit(self, requests_per_second: float | None, burst: int | None = None) -> dict[str, Any]:
        """429 with Retry-After above ``requests_per_second`` per API key (None: off); see ``faults``."""
        return self.faults.limiter.configure(requests_per_second, burst)

    def rate_limit(self) -> dict[str, Any]:
        """The limit and how many calls it admitted and refused."""
        return self.faults.limiter.stats()

    def configure_webhooks(self, **settings: Any) -> dict[str, Any]:
        """retry_schedule, timeout, delay, duplicates, reorder_window (seconds), enabled."""
        config = self.webhooks.configure(**settings)
        return {**config.__dict__, "retry_schedule": list(config.retry_schedule)}

    def deliveries(self, *, merchant_id: str | None = None, event_type: str | None = None) -> list[dict[str, Any]]:
        return self.webhooks.deliveries(merchant_id=merchant_id, event_type=event_type)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.webhooks.wait_idle(timeout)

    # -- control: inspection and reset ---------------------------------------------------------

    def payments_overview(self, *, merchant_id: str | None = None) -> list[dict[str, Any]]:
        """Every payment_id that reached POST /payments, with its status and how many creates it got."""
        with self.lock:
            rows = []
            for (mid, pid), calls in self.create_calls.items():
                if merchant_id not in (None, mid):
                    continue
                payment = self.payments.get((mid, pid))
                rows.append({"merchant_id": mid, "payment_id": pid, "create_calls": calls,
                             "status": payment.status if payment else None,
                             "amount": payment.amount if payment else None,
                             "amount_received": payment.amount_captured if payment else None,
                             "metadata": payment.echo.get("metadata") if payment else None})
            return rows

    def refunds_overview(self, *, merchant_id: str | None = None) -> list[dict[str, Any]]:
        """Every refund, with its payment, status, amount and the metadata its creator set."""
        with self.lock:
            return [{"merchant_id": mid, "refund_id": rid, "payment_id": refund.payment_id,
                     "status": refund.status, "amount": refund.amount, "currency": refund.currency,
                     "metadata": refund.metadata}
                    for (mid, rid), refund in self.refunds.items() if merchant_id in (None, mid)]

    def payouts_overview(self, *, merchant_id: str | None = None) -> list[dict[str, Any]]:
        """Every payout_id that reached POST /payouts/create, with its status and how many creates it got."""
        with self.lock:
            rows = []
            for (mid, pid), calls in self.payout_create_calls.items():
                if merchant_id not in (None, mid):
                    continue
                payout = self.payouts.get((mid, pid))
                rows.append({"merchant_id": mid, "payout_id": pid, "create_calls": calls,
                             "status": payout.status if payout else None,
                             "amount": payout.amount if payout else None})
            return rows

    def reset(self, *, merchants: bool = False) -> None:
        """Forget every object, delivery, behaviour and fault rule; ``merchants=True`` also the merchants."""
        with self.lock:
            self._clear_objects()
            self.webhooks.reset()
            self.faults.clear()
            if merchants:
                self.merchants, self.api_keys = {}, {}

    def shutdown(self) -> None:
        """Stop webhook retries in flight (for a server that is going away)."""
        self.webhooks.reset()

    # -- lookups for control --------------------------------------------------------------------

    def _find(self, table: dict[tuple[str, str], Any], object_id: str, merchant_id: str | None, what: str) -> Any:
        matches = [obj for (mid, oid), obj in table.items() if oid == object_id and merchant_id in (None, mid)]
        if not matches:
            raise LookupError(f"no {what} {object_id}")
        if len(matches) > 1:
            raise LookupError(f"{what} {object_id} exists for several merchants; pass merchant_id")
        return matches[0]

    @staticmethod
    def _get(table: dict[str, Any], object_id: str, what: str) -> Any:
        if object_id not in table:
            raise LookupError(f"no {what} {object_id}")
        return table[object_id]

