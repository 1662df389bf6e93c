"""The models and the migrations describe the same schema, on every
database backend: a model change without its migration fails here."""

from alembic import autogenerate
from alembic import migration as alembic_migration
import pytest
import sqlalchemy as sa

from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from cyborg_clone.db import models
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS


def differences(metadata):
    """What alembic's autogenerate would write to turn the migrated
    database (the ``conf`` fixture's) into ``metadata``."""
    with db_api.writer_engine().connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'compare_type': True,
                              'compare_server_default': True})
        return autogenerate.compare_metadata(context, metadata)


def copy_of_models():
    copy = sa.MetaData(
        naming_convention=models.Base.metadata.naming_convention)
    for table in models.Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def check_constraints(table_names):
    """{table: names of its CHECK constraints} as the database has them;
    autogenerate does not compare these."""
    inspector = sa.inspect(db_api.writer_engine())
    return {table: sorted(c['name'] for c in
                          inspector.get_check_constraints(table))
            for table in table_names}


@pytest.fixture
def migrated(empty_conf):
    """A database the migrations themselves took to head (``conf``'s is a
    copy of one)."""
    migration.upgrade(empty_conf)
    return empty_conf


def test_the_migrated_schema_is_the_models(migrated):
    assert differences(models.Base.metadata) == []


def test_check_constraints_are_the_models(migrated):
    tables = models.Base.metadata.tables
    expected = {name: sorted(c.name for c in table.constraints
                             if isinstance(c, sa.CheckConstraint))
                for name, table in tables.items()}
    assert check_constraints(tables) == expected


def test_a_column_added_to_a_model_alone_is_a_difference(conf):
    changed = copy_of_models()
    changed.tables['devices'].append_column(
        sa.Column('serial_number', sa.String(64)))
    [(kind, schema, table, column)] = differences(changed)
    assert (kind, table, column.name) == ('add_column', 'devices',
                                          'serial_number')


def test_a_longer_column_or_a_lost_index_is_a_difference(conf):
    changed = copy_of_models()
    deployables = changed.tables['deployables']
    deployables.c.name.type = sa.String(300)
    deployables.indexes.remove(next(
        i for i in deployables.indexes if i.name == 'ix_deployables_root_id'))
    found = differences(changed)
    kinds = sorted(d[0][0] if isinstance(d, list) else d[0] for d in found)
    assert kinds == ['modify_type', 'remove_index'], found
