"""Foundation: the tenant mapping and the durable jobs table.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("killbill_url", sa.String(500), nullable=False),
        sa.Column("kb_api_key", sa.String(200), nullable=False),
        sa.Column("kb_api_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("kb_username", sa.String(200), nullable=False),
        sa.Column("kb_password_encrypted", sa.Text(), nullable=False),
        sa.Column("hs_base_url", sa.String(500), nullable=False),
        sa.Column("hs_merchant_id", sa.String(64), nullable=False),
        sa.Column("hs_profile_id", sa.String(64), nullable=False),
        sa.Column("hs_api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("hs_publishable_key", sa.String(200), nullable=True),
        sa.Column("hs_webhook_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("plugin_shared_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("settings", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kb_tenant_id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("hs_merchant_id", "hs_profile_id", name=op.f("uq_tenants_hs_merchant_id_hs_profile_id")),
        sa.UniqueConstraint("kb_api_key", name=op.f("uq_tenants_kb_api_key")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=True),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("state", sa.Enum("pending", "running", "done", "dead", name="jobstate",
                                   native_enum=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("lease_token", sa.String(36), nullable=True),
        sa.Column("locked_by", sa.String(200), nullable=True),
        sa.Column("locked_until", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_traceback", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    op.create_index("ix_jobs_claim", "jobs", ["state", "run_at"])
    op.create_index(op.f("ix_jobs_kb_tenant_id"), "jobs", ["kb_tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_kb_tenant_id"), table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("tenants")
