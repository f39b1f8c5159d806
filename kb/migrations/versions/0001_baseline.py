"""Baseline: the accounts database as kb made it before migrations (users, api_tokens, sign_ins, audit_log).

Written out here, not read from the models, so it stays what it was when the models change. It creates only
what is missing, so it also brings a database made by an earlier kb's create_all (which may predate the
sign_ins table or the audit log's indexes) to this schema; from here on every change is a new revision.

Revision ID: 0001_baseline
Revises: (none)
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TABLES = {
    "users": lambda: op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("regions_csv", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False)),
    "api_tokens": lambda: op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("last_used", sa.DateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False)),
    "sign_ins": lambda: op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False)),
    "audit_log": lambda: op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False)),
}

# (table, index name, columns, unique)
INDEXES = (
    ("users", "ix_users_username", ["username"], True),
    ("api_tokens", "ix_api_tokens_user_id", ["user_id"], False),
    ("api_tokens", "ix_api_tokens_token_hash", ["token_hash"], True),
    ("sign_ins", "ix_sign_ins_user_id", ["user_id"], False),
    ("sign_ins", "ix_sign_ins_key_hash", ["key_hash"], True),
    ("sign_ins", "ix_sign_ins_started", ["started"], False),
    ("audit_log", "ix_audit_log_at", ["at"], False),
    ("audit_log", "ix_audit_action_actor_at", ["action", "actor", "at"], False),
    ("audit_log", "ix_audit_action_address_at", ["action", "address", "at"], False),
)


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, create in TABLES.items():  # in this order: the tables that refer to users come after it
        if name not in existing:
            create()
    inspector = sa.inspect(bind)  # a fresh one: the first has cached the tables as they were
    for table, name, columns, unique in INDEXES:
        if name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.create_index(name, table, columns, unique=unique)


def downgrade() -> None:
    for name in reversed(list(TABLES)):
        op.drop_table(name)
