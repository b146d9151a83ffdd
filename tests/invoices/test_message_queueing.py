"""Queueing payor messages inside the caller's transaction: a send key used before is skipped without undoing
the caller's other work, and only a repeated key counts as one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bridge.db.engine import session_scope
from bridge.db.invoices import Message
from bridge.invoices import messages
from tests.invoices.test_emails import PAYOR, context, make_tenant, send_jobs


@pytest.fixture
def tenant(runtime) -> str:  # type: ignore[no-untyped-def]
    return make_tenant(runtime)


def _queue(session, tenant: str, send_key: str, **overrides) -> int | None:  # type: ignore[no-untyped-def]
    values = {"kb_tenant_id": tenant, "kind": "reminder", "send_key": send_key, "recipient": PAYOR,
              "kb_invoice_id": str(uuid.uuid4()), "context": context(), **overrides}
    return messages.queue_message(session, **values)


def test_a_repeated_key_in_a_transaction_keeps_the_rest_of_it(runtime, tenant) -> None:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        first = _queue(session, tenant, "inv-1:reminder:1")
        assert _queue(session, tenant, "inv-1:reminder:1") is None  # already queued: nothing added
        second = _queue(session, tenant, "inv-1:reminder:2")
    with session_scope(runtime.sessions) as session:
        keys = list(session.scalars(select(Message.send_key).where(Message.kb_tenant_id == tenant)
                                    .order_by(Message.id)))
    assert keys == ["inv-1:reminder:1", "inv-1:reminder:2"] and first is not None and second is not None
    assert [job.payload["message_id"] for job in send_jobs(runtime)] == [first, second]


def test_another_constraint_is_not_taken_for_a_repeated_key(runtime, tenant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), session_scope(runtime.sessions) as session:
        _queue(session, tenant, "inv-2:reminder:1", kb_tenant_id=None)  # NOT NULL: a bug, not a duplicate
    assert send_jobs(runtime) == []
