"""Every model, imported once so ``Base.metadata`` is complete (Alembic and tests rely on it)."""

from bridge.db.audit import HyperswitchCall
from bridge.db.jobs import Job, JobState
from bridge.db.payments import (HsCustomer, LinkedPayment, Payment, PaymentMethod, PaymentMethodState, Transaction,
                                TransactionHistory, TransitionSource)
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import Dispute, EventSource, EventState, InboundEvent

__all__ = ["Dispute", "EventSource", "EventState", "InboundEvent", "HsCustomer", "HyperswitchCall", "Job", "JobState", "LinkedPayment", "Payment", "PaymentMethod",
           "PaymentMethodState", "Tenant", "Transaction", "TransactionHistory", "TransitionSource"]
