"""Every model, imported once so ``Base.metadata`` is complete (Alembic and tests rely on it)."""

from bridge.db.audit import HyperswitchCall
from bridge.db.edges import RateBucket
from bridge.db.invoices import Message, MessageStatus, PayLink, PayLinkState
from bridge.db.jobs import Job, JobState
from bridge.db.payments import (HsCustomer, LinkedPayment, Payment, PaymentMethod, PaymentMethodState, Transaction,
                                TransactionHistory, TransitionSource)
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import Dispute, EventSource, EventState, InboundEvent

__all__ = ["Message", "MessageStatus", "PayLink", "PayLinkState", "Dispute", "EventSource", "EventState", "InboundEvent", "HsCustomer", "HyperswitchCall", "Job", "JobState", "LinkedPayment", "Payment", "PaymentMethod",
           "PaymentMethodState", "RateBucket", "Tenant", "Transaction", "TransactionHistory", "TransitionSource"]
