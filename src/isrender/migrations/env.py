"""Alembic environment: run with the connection isrender passes in (see ``__init__.py``);
there is no ``alembic.ini`` and no URL here."""

from __future__ import annotations

from alembic import context

from isrender.migrations import target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
