"""Hyperswitch ids derived from Kill Bill ids, so a retried create can never make a second object.

An id is a three-letter kind, an underscore and the 26-character base32 of the Kill Bill UUID:
exactly 30 characters of ``[a-z0-9_]``, what the spec asks (30) and within what the router accepts
(1–64 of ``[A-Za-z0-9_-]``). The encoding is reversible, so an id found in Hyperswitch names its
Kill Bill object.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from uuid import UUID


class IdKind(StrEnum):
    PAYMENT = "kbp"  # payment_id, from the kbTransactionId of the authorize or purchase
    REFUND = "kbr"  # refund_id, from the refund's kbTransactionId
    CUSTOMER = "kbc"  # customer_id, from the kbAccountId
    FORM = "kbf"  # payment_id of a hosted form (buildFormDescriptor), from a fresh UUID
    PAYOUT = "kbo"  # payout_id, from the kbTransactionId of a credit
    LINK = "kbl"  # payment_id of a pay-by-link payment (bridge/invoices), from a fresh UUID per link


def derive(kind: IdKind, kb_id: UUID | str) -> str:
    raw = UUID(str(kb_id)).bytes
    return f"{kind.value}_" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def payment_id(kb_transaction_id: UUID | str) -> str:
    return derive(IdKind.PAYMENT, kb_transaction_id)


def refund_id(kb_transaction_id: UUID | str) -> str:
    return derive(IdKind.REFUND, kb_transaction_id)


def payout_id(kb_transaction_id: UUID | str) -> str:
    return derive(IdKind.PAYOUT, kb_transaction_id)


def customer_id(kb_account_id: UUID | str) -> str:
    return derive(IdKind.CUSTOMER, kb_account_id)


def parse(hs_id: str) -> tuple[IdKind, UUID] | None:
    """The kind and Kill Bill UUID behind an id this module made; None for any other id."""
    prefix, _, encoded = hs_id.partition("_")
    try:
        kind = IdKind(prefix)
        raw = base64.b32decode(encoded.upper() + "======")
    except (ValueError, binascii.Error):
        return None
    return (kind, UUID(bytes=raw)) if len(raw) == 16 and len(hs_id) == 30 else None
