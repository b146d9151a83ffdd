"""Kill Bill payment transactions carried out in Hyperswitch, exactly once per ``kbTransactionId``.

Each operation first writes its transaction row (unique per tenant and ``kbTransactionId``) with an
in-flight lease, commits, and only then calls Hyperswitch with an id derived from the Kill Bill id.
A repeated or concurrent call finds the row: it waits while another request is in flight, otherwise
refreshes the row from Hyperswitch. So no second call that could charge is ever made, and a create
whose answer was lost is retried with the same id (``HE_01`` then means: read it back).
No database transaction is held open while Hyperswitch is called.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import hyperswitch_client as hs
from bridge.db.engine import session_scope
from bridge.db.payments import (HsCustomer, LinkedPayment, Payment, PaymentMethod, PaymentMethodState, Transaction,
                                TransactionHistory, TransitionSource)
from bridge.payments import gateway, ids
from bridge.payments.status import (Outcome, PluginStatus, TransactionType, is_terminal, payment_status,
                                    refund_status, void_status)
from bridge.payments.transitions import transition
from bridge.plugin_api.errors import PluginApiError, invalid, unknown
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.payments import (MandateIdRecurring, PaymentCancelParams, PaymentCaptureParams,
                                         PaymentCreateParams, PaymentMethodIdRecurring)
from hyperswitch_client.refunds import RefundCreateParams

log = logging.getLogger(__name__)

# Longer than a Hyperswitch call can take (the client's deadline), so a live request is never doubled.
IN_FLIGHT_LEASE = timedelta(seconds=30)
# How long a concurrent duplicate waits for the request in flight, well inside Kill Bill's 30 s.
DUPLICATE_WAIT_SECONDS = 20.0
# After this, Hyperswitch having no record of our id means the request never reached it.
NEVER_RECEIVED_AFTER = timedelta(minutes=5)

# Plugin properties the bridge reads.
PROP_HS_PAYMENT_ID = "hsPaymentId"  # link an existing, succeeded Hyperswitch payment (pay-by-link)
PROP_HS_PAYMENT_PART = "hsPaymentPart"  # "true": the link records part of it (one invoice of a lump sum)
PROP_HS_PAYMENT_METHOD_ID = "hsPaymentMethodId"
PROP_HS_MANDATE_ID = "hsMandateId"
PROP_RETURN_URL = "returnUrl"
PROP_INVOICE_ID = "IPCD_INVOICE_ID"  # set by Kill Bill's invoice payment control plugin
PROP_CAPTURE_METHOD = "captureMethod"  # manual (default) or manual_multiple, for an authorize
PROP_REDIRECT_URL = "redirectUrl"  # returned: where the customer completes a PENDING payment


@dataclass(frozen=True)
class Instrument:
    """What an off-session charge uses: the customer and their mandate or saved payment method."""

    hs_customer_id: str
    mandate_id: str | None
    payment_method_id: str | None

    def recurring_details(self) -> MandateIdRecurring | PaymentMethodIdRecurring:
        if self.mandate_id:
            return MandateIdRecurring(data=self.mandate_id)
        return PaymentMethodIdRecurring(data=self.payment_method_id or "")


# -- validation ---------------------------------------------------------------------------------
# Hyperswitch refuses larger amounts (reference/hyperswitch.md §2, MAX_ALLOWED_AMOUNT).
MAX_MINOR_UNITS = 999_999_999


def minor_units(amount: Decimal, currency: str, *, allow_zero: bool = False) -> int:
    if amount < 0 or (amount == 0 and not allow_zero):
        raise PluginApiError("INVALID_AMOUNT", f"amount must be {'zero or ' if allow_zero else ''}positive, "
                                               f"got {amount}", 400)
    try:
        minor = hs.to_minor_units(amount, currency)
    except hs.money.UnknownCurrencyError:
        raise PluginApiError("INVALID_CURRENCY", f"currency {currency} is not supported by Hyperswitch", 400) from None
    except hs.money.AmountPrecisionError:
        raise PluginApiError("INVALID_AMOUNT", f"{amount} has more decimals than {currency} allows "
                                               f"({hs.currency_exponent(currency)})", 400) from None
    if minor > MAX_MINOR_UNITS:
        raise PluginApiError("INVALID_AMOUNT", f"{amount} {currency} is above the largest amount Hyperswitch "
                                               f"accepts ({hs.from_minor_units(MAX_MINOR_UNITS, currency)})", 400)
    return minor


# -- rows -------------------------------------------------------------------------------------------
def _find(session: Session, tenant_id: str, kb_transaction_id: UUID | str) -> Transaction | None:
    return session.scalars(select(Transaction).where(Transaction.kb_tenant_id == tenant_id,
                                                     Transaction.kb_transaction_id == str(kb_transaction_id))
                           ).one_or_none()


def _payment_row(session: Session, env: TenantEnv, call: Any, currency: str | None) -> Payment:
    payment = session.get(Payment, (env.tenant_id, str(call.kbPaymentId)))
    if payment is None:
        if currency is None:
            raise unknown("payment", f"no payment {call.kbPaymentId} in the bridge")
        payment = Payment(kb_tenant_id=env.tenant_id, kb_payment_id=str(call.kbPaymentId),
                          kb_account_id=str(call.kbAccountId),
                          kb_payment_method_id=str(call.kbPaymentMethodId) if call.kbPaymentMethodId else None,
                          currency=currency, created_at=env.now())
        session.add(payment)
        return payment
    if payment.kb_account_id != str(call.kbAccountId):
        raise invalid(f"payment {call.kbPaymentId} belongs to another account")
    if currency is not None and payment.currency != currency:
        raise PluginApiError("INVALID_CURRENCY", f"payment {call.kbPaymentId} is in {payment.currency}, "
                                                 f"not {currency}", 400)
    return payment


def insert_transaction(env: TenantEnv, call: Any, ttype: TransactionType, *, currency: str | None, amount: Decimal | None,
            hs_payment_id: str | None, hs_refund_id: str | None = None, linked: bool = False,
            expected_received: int | None = None, start: Outcome | None = None,
            kb_invoice_id: str | None = None) -> int | None:
    """Write the transaction row with its in-flight lease; None if the same kbTransactionId won the race."""
    now = env.now()
    try:
        with session_scope(env.sessions) as session:
            _payment_row(session, env, call, currency)
            outcome = start or Outcome(PluginStatus.UNDEFINED)
            txn = Transaction(kb_tenant_id=env.tenant_id, kb_account_id=str(call.kbAccountId),
                              kb_payment_id=str(call.kbPaymentId), kb_transaction_id=str(call.kbTransactionId),
                              transaction_type=ttype, amount=amount, currency=currency, status=outcome.status,
                              hs_payment_id=hs_payment_id, hs_refund_id=hs_refund_id, linked=linked,
                              hs_expected_received=expected_received,
                              kb_invoice_id=kb_invoice_id or call.property(PROP_INVOICE_ID),
                              gateway_error_code=outcome.gateway_error_code, gateway_error=outcome.gateway_error,
                              in_flight_until=None if start else now + IN_FLIGHT_LEASE, attempted_at=now,
                              created_at=now, updated_at=now)
            session.add(txn)
            session.flush()
            session.add(TransactionHistory(transaction_id=txn.id, from_status=None, to_status=outcome.status,
                                           hs_status=None, source=TransitionSource.PLUGIN, created_at=now,
                                           detail=outcome.gateway_error or "request sent to Hyperswitch"))
            return txn.id
    except IntegrityError:
        return None


def finish(env: TenantEnv, txn_id: int, outcome: Outcome, source: TransitionSource, *,
            payment: hs.payments.Payment | None = None, detail: str | None = None) -> Transaction:
    with session_scope(env.sessions) as session:
        txn = session.get(Transaction, txn_id, with_for_update=True)
        transition(session, txn, outcome, source, now=env.now(), detail=detail)
        txn.in_flight_until = None
        if payment is not None:
            txn.second_reference_id = payment.connector_transaction_id or txn.second_reference_id
            redirect = payment.next_action.redirect_to_url if payment.next_action else None
            txn.redirect_url = redirect or txn.redirect_url
        return txn


def claim_retry(env: TenantEnv, txn_id: int) -> bool:
    """Take the in-flight lease to re-send a create whose first answer was lost."""
    now = env.now()
    with session_scope(env.sessions) as session:
        result = session.execute(update(Transaction).where(
            Transaction.id == txn_id,
            (Transaction.in_flight_until.is_(None)) | (Transaction.in_flight_until < now),
        ).values(in_flight_until=now + IN_FLIGHT_LEASE, attempted_at=now, updated_at=now))
        return result.rowcount == 1


def load(env: TenantEnv, txn_id: int) -> Transaction:
    with session_scope(env.sessions) as session:
        return session.get(Transaction, txn_id)


def _wait_while_in_flight(env: TenantEnv, txn_id: int) -> Transaction:
    deadline = time.monotonic() + DUPLICATE_WAIT_SECONDS
    txn = load(env, txn_id)
    while txn.in_flight_until is not None and txn.in_flight_until > env.now() and time.monotonic() < deadline:
        time.sleep(0.05)
        txn = load(env, txn_id)
    return txn


# -- outcomes from Hyperswitch objects ----------------------------------------------------------------
def payment_outcome(ttype: TransactionType, payment: hs.payments.Payment) -> Outcome:
    status = payment_status(ttype, str(payment.status))
    code, message = payment.error_code or payment.unified_code, payment.error_message or payment.unified_message
    if status is PluginStatus.ERROR and not code:
        code = str(payment.status)
    return Outcome(status, str(payment.status), code, message)


def capture_outcome(txn: Transaction, payment: hs.payments.Payment, *, now_past_grace: bool) -> Outcome:
    received = payment.amount_received or 0
    if txn.hs_expected_received is not None and received >= txn.hs_expected_received:
        return Outcome(PluginStatus.PROCESSED, str(payment.status))
    outcome = payment_outcome(TransactionType.CAPTURE, payment)
    if outcome.status in (PluginStatus.ERROR, PluginStatus.PENDING) and outcome.hs_status != "partially_captured":
        return outcome
    if now_past_grace:
        return Outcome(PluginStatus.CANCELED, str(payment.status), "CAPTURE_NOT_RECEIVED",
                       "Hyperswitch shows no capture for this transaction")
    return Outcome(PluginStatus.UNDEFINED, str(payment.status))


def refund_outcome(refund: hs.refunds.Refund) -> Outcome:
    status = refund_status(str(refund.status))
    code = refund.error_code or refund.unified_code or (str(refund.status) if status is PluginStatus.ERROR else None)
    return Outcome(status, str(refund.status), code, refund.error_message or refund.unified_message)


def never_received(txn: Transaction, what: str) -> Outcome:
    return Outcome(PluginStatus.CANCELED, None, "NOT_RECEIVED",
                   f"Hyperswitch has no {what}: the request never reached it")


# -- refresh: re-read the transaction's object from Hyperswitch ---------------------------------------
def refresh(env: TenantEnv, txn_id: int, source: TransitionSource) -> Transaction:
    """Move a non-final transaction forward from what Hyperswitch says now."""
    txn = load(env, txn_id)
    if is_terminal(txn.status) or (txn.in_flight_until is not None and txn.in_flight_until > env.now()):
        return txn
    past_grace = txn.attempted_at is None or txn.attempted_at + NEVER_RECEIVED_AFTER < env.now()
    if txn.transaction_type is TransactionType.CREDIT:  # a payout (bridge/payments/payouts.py)
        from bridge.payments.payouts import refresh_payout

        return refresh_payout(env, txn, source, past_grace=past_grace)
    if txn.transaction_type is TransactionType.REFUND:
        answer = gateway.call(lambda: env.hyperswitch.refunds.retrieve(txn.hs_refund_id, force_sync=True))
        if answer.value is not None:
            return finish(env, txn_id, refund_outcome(answer.value), source)
        return finish(env, txn_id, never_received(txn, f"refund {txn.hs_refund_id}"), source) \
            if gateway.is_not_found(answer) and past_grace else txn
    if txn.hs_payment_id is None:
        return txn
    answer = gateway.call(lambda: env.hyperswitch.payments.retrieve(txn.hs_payment_id, force_sync=True))
    if answer.value is None:
        if gateway.is_not_found(answer) and past_grace:
            return finish(env, txn_id, never_received(txn, f"payment {txn.hs_payment_id}"), source)
        return txn
    payment = answer.value
    if txn.transaction_type is TransactionType.CAPTURE:
        outcome = capture_outcome(txn, payment, now_past_grace=past_grace)
    elif txn.transaction_type is TransactionType.VOID:
        outcome = Outcome(void_status(str(payment.status)), str(payment.status))
        if outcome.status is PluginStatus.ERROR and not past_grace:
            outcome = Outcome(PluginStatus.UNDEFINED, str(payment.status))
    else:
        outcome = payment_outcome(txn.transaction_type, payment)
    return finish(env, txn_id, outcome, source, payment=payment)


def resume(env: TenantEnv, txn_id: int) -> Transaction:
    """A repeated call for an existing transaction: its stored result, refreshed if not final."""
    txn = _wait_while_in_flight(env, txn_id)
    return refresh(env, txn_id, TransitionSource.REFRESH) if not is_terminal(txn.status) else txn


# -- authorize / purchase ------------------------------------------------------------------------------
def _payment_method(session: Session, env: TenantEnv, call: Any) -> PaymentMethod | None:
    if not call.kbPaymentMethodId:
        return None
    return session.get(PaymentMethod, (env.tenant_id, str(call.kbPaymentMethodId)))


def _instrument(env: TenantEnv, call: Any) -> Instrument | Outcome:
    with session_scope(env.sessions) as session:
        row = _payment_method(session, env, call)
    return _instrument_of(call, row)


def _instrument_of(call: Any, row: PaymentMethod | None) -> Instrument | Outcome:
    """The Kill Bill payment method's mandate or saved method; properties may name another of its customer's."""
    if row is None or row.state is PaymentMethodState.DELETED:
        raise unknown("payment_method", f"payment method {call.kbPaymentMethodId} is not known to the bridge")
    if row.kb_account_id != str(call.kbAccountId):
        raise invalid(f"payment method {call.kbPaymentMethodId} belongs to another account")
    if row.state is PaymentMethodState.UNUSABLE:
        return Outcome(PluginStatus.ERROR, None, "PAYMENT_METHOD_UNUSABLE",
                       "the payment method can no longer be charged (its mandate was revoked)")
    mandate, method = call.property(PROP_HS_MANDATE_ID), call.property(PROP_HS_PAYMENT_METHOD_ID)
    if mandate or method:  # Hyperswitch checks that they belong to this customer
        return Instrument(row.hs_customer_id, mandate, None if mandate else method)
    if not (row.hs_mandate_id or row.hs_payment_method_id):
        return Outcome(PluginStatus.ERROR, None, "NO_MANDATE",
                       "the payment method has no Hyperswitch mandate or saved payment method")
    return Instrument(row.hs_customer_id, row.hs_mandate_id, None if row.hs_mandate_id else row.hs_payment_method_id)


def payment_metadata(env: TenantEnv, call: Any) -> dict[str, str]:
    data = {"kb_tenant_id": env.tenant_id, "kb_account_id": str(call.kbAccountId),
            "kb_payment_id": str(call.kbPaymentId), "kb_transaction_id": str(call.kbTransactionId)}
    invoice = call.property(PROP_INVOICE_ID)
    if invoice:
        data["kb_invoice_id"] = invoice
    return data


def made_for(env: TenantEnv, call: Any, metadata: dict[str, Any] | None) -> bool:
    """Whether an object a create returned is this call's. Its id derives from the kbTransactionId alone, and
    tenants sharing a Hyperswitch merchant (business profiles) share its ids: "already exists" then read
    back could be another tenant's object. Ours carries our tenant and transaction (DESIGN rule 9)."""
    metadata = metadata or {}
    return (metadata.get("kb_tenant_id") == env.tenant_id
            and metadata.get("kb_transaction_id") == str(call.kbTransactionId))


def id_taken(what: str, hs_id: str) -> Outcome:
    """Hyperswitch refused our create: the id is another's, so nothing of ours was made."""
    return Outcome(PluginStatus.CANCELED, None, "HS_ID_TAKEN",
                   f"Hyperswitch already holds a {what} {hs_id} that this tenant did not make; none was created")


def _create_params(env: TenantEnv, call: Any, ttype: TransactionType, minor: int,
                   instrument: Instrument) -> PaymentCreateParams:
    capture_method = "automatic"
    if ttype is TransactionType.AUTHORIZE:
        capture_method = "manual_multiple" if call.property(PROP_CAPTURE_METHOD) == "manual_multiple" else "manual"
    return PaymentCreateParams(
        amount=minor, currency=call.currency, payment_id=ids.payment_id(call.kbTransactionId), confirm=True,
        capture_method=capture_method, customer_id=instrument.hs_customer_id, off_session=True,
        recurring_details=instrument.recurring_details(), return_url=call.property(PROP_RETURN_URL),
        metadata=payment_metadata(env, call),
        merchant_order_reference_id=call.property(PROP_INVOICE_ID) or str(call.kbPaymentId))


def charge(env: TenantEnv, call: Any, ttype: TransactionType) -> Transaction:
    minor = minor_units(call.amount, call.currency, allow_zero=ttype is TransactionType.AUTHORIZE)
    linked_id = call.property(PROP_HS_PAYMENT_ID)
    with session_scope(env.sessions) as session:  # one read for both: a new charge needs its payment method
        existing = _find(session, env.tenant_id, call.kbTransactionId)
        method = _payment_method(session, env, call) if existing is None and not linked_id else None
    if existing is not None:
        return _complete(env, existing.id, call, ttype, minor)
    if linked_id:
        return link(env, call, ttype, linked_id, minor)
    instrument = _instrument_of(call, method)
    if isinstance(instrument, Outcome):  # known refusal before anything is sent
        txn_id = insert_transaction(env, call, ttype, currency=call.currency, amount=call.amount, hs_payment_id=None,
                         start=instrument)
        return stored(env, txn_id, call)
    txn_id = insert_transaction(env, call, ttype, currency=call.currency, amount=call.amount,
                     hs_payment_id=ids.payment_id(call.kbTransactionId))
    if txn_id is None:
        return stored(env, None, call)
    return _send_create(env, txn_id, call, ttype, minor, instrument)


def stored(env: TenantEnv, txn_id: int | None, call: Any) -> Transaction:
    """The transaction just inserted; or, when a concurrent call with the same kbTransactionId inserted
    it first (``txn_id`` is None), that call's result."""
    return load(env, txn_id) if txn_id is not None else resume(env, existing_id(env, call))


def _send_create(env: TenantEnv, txn_id: int, call: Any, ttype: TransactionType, minor: int,
                 instrument: Instrument) -> Transaction:
    params = _create_params(env, call, ttype, minor, instrument)
    answer = gateway.call(lambda: env.hyperswitch.payments.create(params))
    if gateway.is_duplicate(answer):  # our own earlier request landed: read it back
        answer = gateway.call(lambda: env.hyperswitch.payments.retrieve(params.payment_id))
    if answer.value is None:
        return finish(env, txn_id, answer.failure, TransitionSource.PLUGIN)
    if not made_for(env, call, answer.value.metadata):
        return finish(env, txn_id, id_taken("payment", params.payment_id), TransitionSource.PLUGIN)
    return finish(env, txn_id, payment_outcome(ttype, answer.value), TransitionSource.PLUGIN, payment=answer.value)


def _complete(env: TenantEnv, txn_id: int, call: Any, ttype: TransactionType, minor: int) -> Transaction:
    """Kill Bill calls again with the same kbTransactionId to complete or refresh it."""
    txn = resume(env, txn_id)
    if txn.transaction_type is not ttype:
        raise invalid(f"transaction {call.kbTransactionId} is a {txn.transaction_type.value}, not a {ttype.value}")
    lost = txn.status is PluginStatus.UNDEFINED and not txn.linked and txn.hs_payment_id
    if lost and _hyperswitch_lacks(env, txn.hs_payment_id) and claim_retry(env, txn_id):
        instrument = _instrument(env, call)
        if isinstance(instrument, Outcome):
            return finish(env, txn_id, instrument, TransitionSource.PLUGIN)
        return _send_create(env, txn_id, call, ttype, minor, instrument)
    return txn


def _hyperswitch_lacks(env: TenantEnv, hs_payment_id: str) -> bool:
    return gateway.is_not_found(gateway.call(lambda: env.hyperswitch.payments.retrieve(hs_payment_id)))


# -- pay-by-link: record an existing Hyperswitch payment instead of charging -------------------------
def link(env: TenantEnv, call: Any, ttype: TransactionType, hs_payment_id: str, minor: int) -> Transaction:
    """Record an existing payment: whole (the amount is what it received), or a part of it with
    ``hsPaymentPart`` (any amount, the parts together never above what it received)."""
    part = call.property(PROP_HS_PAYMENT_PART) == "true"
    refusal, received = _link_refusal(env, call, ttype, hs_payment_id, minor, part=part)
    outcome = refusal or Outcome(PluginStatus.PROCESSED, "succeeded")
    if refusal is None and not _take(env, call, hs_payment_id, minor, received, part=part):
        outcome = Outcome(PluginStatus.ERROR, None, "ALREADY_LINKED",
                          f"Hyperswitch payment {hs_payment_id} is already recorded in Kill Bill"
                          + (f" for more than {received - minor} of its {received} minor units" if part else ""))
    txn_id = insert_transaction(env, call, ttype, currency=call.currency, amount=call.amount, hs_payment_id=hs_payment_id,
                     linked=True, start=outcome)
    if txn_id is None:
        return stored(env, None, call)
    return load(env, txn_id)


def _link_refusal(env: TenantEnv, call: Any, ttype: TransactionType, hs_payment_id: str, minor: int, *,
                  part: bool) -> tuple[Outcome | None, int]:
    """Why the payment cannot be linked (None if it can), and the minor units it received."""
    if ttype is not TransactionType.PURCHASE:
        return Outcome(PluginStatus.ERROR, None, "LINK_REFUSED", "only a purchase can link an existing payment"), 0
    answer = gateway.call(lambda: env.hyperswitch.payments.retrieve(hs_payment_id))
    if answer.value is None:
        if gateway.is_not_found(answer):
            return Outcome(PluginStatus.ERROR, None, "LINK_REFUSED", f"no Hyperswitch payment {hs_payment_id}"), 0
        return answer.failure, 0
    payment = answer.value
    received = payment.amount_received or payment.amount
    expected_customer = _customer_of(env, call.kbAccountId)
    problems = []
    if str(payment.status) != "succeeded":
        problems.append(f"its status is {payment.status}, not succeeded")
    if payment.currency != call.currency:
        problems.append(f"it is in {payment.currency}, not {call.currency}")
    if part and minor > received:
        problems.append(f"it received {received} minor units, less than {minor}")
    if not part and received != minor:
        problems.append(f"it received {received} minor units, not {minor}")
    if payment.customer_id != expected_customer:
        problems.append("it belongs to another customer")
    if problems:
        return Outcome(PluginStatus.ERROR, str(payment.status), "LINK_REFUSED",
                       f"Hyperswitch payment {hs_payment_id} cannot be recorded: " + "; ".join(problems)), received
    return None, received


def _take(env: TenantEnv, call: Any, hs_payment_id: str, minor: int, received: int, *, part: bool) -> bool:
    """Count ``minor`` of the payment as carried by Kill Bill; False when that would exceed what it received
    (linked whole already, or the parts so far leave less). The conditional update serializes parts."""
    try:
        with session_scope(env.sessions) as session:
            session.add(LinkedPayment(kb_tenant_id=env.tenant_id, hs_payment_id=hs_payment_id,
                                      kb_transaction_id=str(call.kbTransactionId), linked_minor=minor,
                                      created_at=env.now()))
            session.flush()
        return True
    except IntegrityError:
        if not part:
            return False
    with session_scope(env.sessions) as session:
        taken = session.execute(update(LinkedPayment).where(
            LinkedPayment.kb_tenant_id == env.tenant_id, LinkedPayment.hs_payment_id == hs_payment_id,
            LinkedPayment.linked_minor.is_not(None), LinkedPayment.linked_minor + minor <= received,
        ).values(linked_minor=LinkedPayment.linked_minor + minor))
        return taken.rowcount == 1


def _customer_of(env: TenantEnv, kb_account_id: UUID) -> str:
    with session_scope(env.sessions) as session:
        row = session.get(HsCustomer, (env.tenant_id, str(kb_account_id)))
        return row.hs_customer_id if row else ids.customer_id(kb_account_id)


# -- capture / void / refund / credit -----------------------------------------------------------------
def _settled_charge(env: TenantEnv, call: Any, types: tuple[TransactionType, ...]) -> Transaction:
    """The payment's successful authorize or purchase: the Hyperswitch payment follow-ups act on."""
    with session_scope(env.sessions) as session:
        txn = session.scalars(select(Transaction).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.kb_payment_id == str(call.kbPaymentId),
            Transaction.transaction_type.in_(types), Transaction.status == PluginStatus.PROCESSED,
        ).order_by(Transaction.id.desc())).first()
    if txn is None:
        raise unknown("payment", f"payment {call.kbPaymentId} has no successful "
                                 f"{' or '.join(t.value.lower() for t in types)} in the bridge")
    return txn


def capture(env: TenantEnv, call: Any) -> Transaction:
    minor = minor_units(call.amount, call.currency)
    existing = existing_id(env, call)
    if existing is not None:
        return resume(env, existing)
    auth = _settled_charge(env, call, (TransactionType.AUTHORIZE,))
    before = gateway.call(lambda: env.hyperswitch.payments.retrieve(auth.hs_payment_id))
    if before.value is None:
        # Nothing was captured: the state could not even be read, so the capture is not sent.
        return stored(env, insert_transaction(env, call, TransactionType.CAPTURE, currency=call.currency, amount=call.amount,
                                    hs_payment_id=auth.hs_payment_id, start=_not_sent(before.failure)), call)
    expected = (before.value.amount_received or 0) + minor
    txn_id = insert_transaction(env, call, TransactionType.CAPTURE, currency=call.currency, amount=call.amount,
                     hs_payment_id=auth.hs_payment_id, expected_received=expected)
    if txn_id is None:
        return stored(env, None, call)
    answer = gateway.call(lambda: env.hyperswitch.payments.capture(
        auth.hs_payment_id, PaymentCaptureParams(amount_to_capture=minor)))
    if answer.value is None:
        return finish(env, txn_id, answer.failure, TransitionSource.PLUGIN)
    txn = load(env, txn_id)
    return finish(env, txn_id, capture_outcome(txn, answer.value, now_past_grace=False), TransitionSource.PLUGIN,
                   payment=answer.value)


def _not_sent(failure: Outcome | None) -> Outcome:
    """A follow-up that was not sent because its preparation failed: certainly not processed."""
    base = failure or Outcome(PluginStatus.CANCELED)
    return Outcome(PluginStatus.CANCELED, None, base.gateway_error_code, base.gateway_error)


def existing_id(env: TenantEnv, call: Any) -> int | None:
    with session_scope(env.sessions) as session:
        txn = _find(session, env.tenant_id, call.kbTransactionId)
        return txn.id if txn else None


def void(env: TenantEnv, call: Any) -> Transaction:
    existing = existing_id(env, call)
    if existing is not None:
        return resume(env, existing)
    auth = _settled_charge(env, call, (TransactionType.AUTHORIZE,))
    txn_id = insert_transaction(env, call, TransactionType.VOID, currency=auth.currency, amount=None,
                     hs_payment_id=auth.hs_payment_id)
    if txn_id is None:
        return stored(env, None, call)
    answer = gateway.call(lambda: env.hyperswitch.payments.cancel(
        auth.hs_payment_id, PaymentCancelParams(cancellation_reason="voided in Kill Bill")))
    if answer.value is None:
        return finish(env, txn_id, answer.failure, TransitionSource.PLUGIN)
    payment = answer.value
    return finish(env, txn_id, Outcome(void_status(str(payment.status)), str(payment.status)),
                   TransitionSource.PLUGIN, payment=payment)


def refund(env: TenantEnv, call: Any) -> Transaction:
    minor = minor_units(call.amount, call.currency)
    existing = existing_id(env, call)
    if existing is not None:
        return resume(env, existing)
    charged = _settled_charge(env, call, (TransactionType.PURCHASE, TransactionType.CAPTURE))
    refund_id = ids.refund_id(call.kbTransactionId)
    txn_id = insert_transaction(env, call, TransactionType.REFUND, currency=call.currency, amount=call.amount,
                     hs_payment_id=charged.hs_payment_id, hs_refund_id=refund_id, kb_invoice_id=charged.kb_invoice_id)
    if txn_id is None:
        return stored(env, None, call)
    params = RefundCreateParams(payment_id=charged.hs_payment_id, refund_id=refund_id, amount=minor,
                                reason=(call.context.comments or "refunded in Kill Bill")[:255],
                                metadata=payment_metadata(env, call))
    answer = gateway.call(lambda: env.hyperswitch.refunds.create(params))
    if gateway.is_duplicate(answer):
        answer = gateway.call(lambda: env.hyperswitch.refunds.retrieve(refund_id))
    if answer.value is None:
        return finish(env, txn_id, answer.failure, TransitionSource.PLUGIN)
    if not made_for(env, call, answer.value.metadata):
        return finish(env, txn_id, id_taken("refund", refund_id), TransitionSource.PLUGIN)
    return finish(env, txn_id, refund_outcome(answer.value), TransitionSource.PLUGIN)


def credit(env: TenantEnv, call: Any) -> Transaction:
    minor = minor_units(call.amount, call.currency)
    existing = existing_id(env, call)
    if existing is None and not env.settings.payouts.enabled:
        refusal = Outcome(PluginStatus.CANCELED, None, "CREDIT_NOT_SUPPORTED",
                          "credits (Hyperswitch payouts) are not enabled for this tenant; nothing was sent")
        txn_id = insert_transaction(env, call, TransactionType.CREDIT, currency=call.currency, amount=call.amount,
                         hs_payment_id=None, start=refusal)
        return stored(env, txn_id, call)
    # Payouts (bridge/payments/payouts.py): a new credit, or completing or refreshing a stored one.
    from bridge.payments.payouts import credit_via_payout

    return credit_via_payout(env, call, minor, existing)


# -- reads ------------------------------------------------------------------------------------------------
def payment_transactions(env: TenantEnv, kb_payment_id: UUID | str) -> list[Transaction]:
    """Every transaction of a payment, non-final ones refreshed from Hyperswitch first."""
    with session_scope(env.sessions) as session:
        rows = session.scalars(select(Transaction).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.kb_payment_id == str(kb_payment_id)
        ).order_by(Transaction.id)).all()
    return [txn if is_terminal(txn.status) else refresh(env, txn.id, TransitionSource.REFRESH) for txn in rows]


def search(env: TenantEnv, key: str, offset: int, limit: int) -> tuple[list[Transaction], int]:
    """Transactions whose Kill Bill or Hyperswitch id equals ``key``, newest first."""
    condition = (Transaction.kb_payment_id == key) | (Transaction.kb_transaction_id == key) | \
        (Transaction.kb_account_id == key) | (Transaction.hs_payment_id == key) | (Transaction.hs_refund_id == key)
    with session_scope(env.sessions) as session:
        query = select(Transaction).where(Transaction.kb_tenant_id == env.tenant_id, condition)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Transaction.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total
