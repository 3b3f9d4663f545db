"""Alembic environment of the grader service: runs migrations on the URL or connection the service passes."""

from __future__ import annotations

from sqlalchemy import create_engine

from alembic import context
from grader_service.orm import (
    auth,  # noqa: F401  (login sessions, password users, OAuth codes)
    grades,  # noqa: F401  (the grades tables)
    grading,  # noqa: F401  (the grading record)
    models,  # noqa: F401  (registers every table on the metadata)
)
from grader_service.orm.base import Base
from grader_service.orm.grades import include_object  # leaves out the indexes models cannot express

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
        compare_type=True,
        include_object=include_object,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
