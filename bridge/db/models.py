"""Every model, imported once so ``Base.metadata`` is complete (Alembic and tests rely on it)."""

from bridge.db.jobs import Job, JobState
from bridge.db.tenancy import Tenant

__all__ = ["Job", "JobState", "Tenant"]
