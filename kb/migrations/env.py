"""Alembic's environment: runs on the connection ``kb.migrate`` hands it (already locked, inside its
transaction), against the tables of ``kb.accounts_model``. There is no offline (SQL script) mode."""
from alembic import context

from kb.accounts_model import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True,
                  render_as_batch=True)  # SQLite can change a table only by copying it: batch mode does that
with context.begin_transaction():
    context.run_migrations()
