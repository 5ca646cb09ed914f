"""The migrations are the schema: they upgrade, downgrade and upgrade again, and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from support.databases import alembic, database
from todo_service.models import Base


def _schema(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            schema = inspect(connection)
            tables = set(schema.get_table_names())
            indexes = {
                index["name"]: index["column_names"]
                for index in (schema.get_indexes("todos") if "todos" in tables else [])
            }
            changes = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    return {"tables": tables, "indexes": indexes, "changes": changes}


def test_upgrade_downgrade_and_upgrade_again(backend, tmp_path):
    with database(backend, tmp_path) as url:
        alembic("todo-service", url, "upgrade", "head")
        upgraded = _schema(url)
        alembic("todo-service", url, "downgrade", "base")
        downgraded = _schema(url)
        alembic("todo-service", url, "upgrade", "head")
        again = _schema(url)

    assert upgraded["tables"] == {"todos", "alembic_version"}
    assert upgraded["indexes"]["ix_todos_owner_position_id"] == ["owner_id", "position", "id"]
    assert upgraded["changes"] == [], "the models and the migrations disagree"
    assert downgraded["tables"] == {"alembic_version"}
    assert again == upgraded
