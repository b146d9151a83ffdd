"""A card the payor saved while paying a link becomes a Kill Bill payment method of the account.

With ``pay_by_link.offer_to_save_card`` the link payment is made with ``setup_future_usage=off_session``
and the payment page offers to save the card; when the payor agrees, the succeeded payment names the
saved ``payment_method_id`` (and its mandate, when one was made). Before the payment is recorded, the
bridge adds that card to the Kill Bill account through Kill Bill's own API — the plugin's payment
method, with the property ``hsPaymentId`` — so Kill Bill calls the plugin's ``addPaymentMethod``, which
reads the payment back from Hyperswitch, checks the card is the account customer's and chargeable
off-session, and stores it (:mod:`bridge.payment_methods`). Kill Bill makes it the account's default only
when ``pay_by_link.saved_card_becomes_default`` says so. Added first, it is also what the payment is then
recorded with when the account had no payment method of the plugin yet.

Exactly once: this runs inside the link payment's recording claim (one recorder at a time, whether the
webhook or the return page got there first), and a card the bridge already carries is never added again.
A recorder that died after Kill Bill answered finds the card stored by the plugin; and the plugin itself
refuses a second Kill Bill payment method for one Hyperswitch payment method.
"""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy import or_, select

import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.invoices import PayLink
from bridge.db.payments import PaymentMethod, PaymentMethodState
from bridge.payment_methods.sources import PROP_PAYMENT
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.payments import Payment

log = logging.getLogger(__name__)

# The name the Java forwarding plugin registers in Kill Bill (HyperswitchBridgeActivator.PLUGIN_NAME).
KILLBILL_PLUGIN_NAME = "hyperswitch-bridge"


def saved_for_later(payment: Payment) -> bool:
    """The payor agreed to save the card for merchant-initiated payments on this payment."""
    return str(payment.setup_future_usage) == "off_session" and bool(payment.payment_method_id or payment.mandate_id)


def carried(env: TenantEnv, payment: Payment) -> PaymentMethod | None:
    """The Kill Bill payment method the bridge already holds for the payment's card or mandate."""
    match = []
    if payment.payment_method_id:
        match.append(PaymentMethod.hs_payment_method_id == payment.payment_method_id)
    if payment.mandate_id:
        match.append(PaymentMethod.hs_mandate_id == payment.mandate_id)
    with session_scope(env.sessions) as session:
        return session.scalars(select(PaymentMethod).where(
            PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.state != PaymentMethodState.DELETED,
            or_(*match))).first()


def register(env: TenantEnv, link: PayLink, payment: Payment) -> UUID | None:
    """Add the card saved on this link payment to the Kill Bill account; its Kill Bill id, None if none.

    Kill Bill refusing it (4xx) is logged and the payment is recorded all the same; Kill Bill unreachable
    or failing (5xx) propagates, so the recording is tried again later.
    """
    if not saved_for_later(payment):
        return None
    existing = carried(env, payment)
    if existing is not None:
        return UUID(existing.kb_payment_method_id)
    make_default = env.settings.pay_by_link.saved_card_becomes_default
    try:
        method = env.killbill.payment_methods.add(
            UUID(link.kb_account_id), KILLBILL_PLUGIN_NAME, is_default=make_default,
            plugin_info_properties={PROP_PAYMENT: payment.payment_id}, reason="pay-by-link",
            comment=f"card saved by the payor on Hyperswitch payment {payment.payment_id}")
    except kb.CreatedButUnreadableError as exc:
        return UUID(exc.resource_id)
    except (kb.BadRequestError, kb.ConflictError, kb.NotFoundError) as exc:
        stored = carried(env, payment)  # the plugin stored it and Kill Bill failed after
        if stored is not None:
            return UUID(stored.kb_payment_method_id)
        log.warning("pay link %s: Kill Bill did not add the card saved on Hyperswitch payment %s to account %s: "
                    "%s", link.id, payment.payment_id, link.kb_account_id, exc)
        return None
    log.info("pay link %s: card saved on Hyperswitch payment %s added to account %s as Kill Bill payment method "
             "%s%s", link.id, payment.payment_id, link.kb_account_id, method.payment_method_id,
             " (the default)" if make_default else "")
    return method.payment_method_id
