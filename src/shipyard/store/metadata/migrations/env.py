"""Alembic environment: runs on the connection Database.upgrade hands over."""

from alembic import context

from shipyard.store.metadata._tables import Base

connection = context.config.attributes.get("connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection is not None and connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
