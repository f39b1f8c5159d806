"""Alembic's environment: runs on the connection ``kb.migrate`` hands it (already locked, inside its
transaction), against the tables of kb's models (``kb.migrate.MODEL_MODULES``). There is no offline mode."""
from alembic import context

from kb.migrate import target_metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata(), compare_type=True,
                  render_as_batch=True)  # SQLite can change a table only by copying it: batch mode does that
with context.begin_transaction():
    context.run_migrations()
