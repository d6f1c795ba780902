"""Tests for heat_taskflow.persistence.models: constraints and column types on each database."""

import pytest
import sqlalchemy as sa

from heat_taskflow.persistence import models


def insert_stack(connection, stack_id, name, live_name, project_id='p'):
    template_id = connection.execute(
        sa.insert(models.RawTemplate).values(template={}, created_at=models.utcnow())
    ).inserted_primary_key[0]
    connection.execute(sa.insert(models.Stack).values(
        id=stack_id, name=name, live_name=live_name, project_id=project_id,
        raw_template_id=template_id, nested_depth=0, action='INIT', status='COMPLETE',
        convergence=False, disable_rollback=True, created_at=models.utcnow()))


def test_live_name_is_unique_per_project_but_null_repeats(database):
    with database.engine.begin() as connection:
        insert_stack(connection, 'a', 'web', None)
        insert_stack(connection, 'b', 'web', None)      # two deleted stacks named web
        insert_stack(connection, 'c', 'web', 'web')
        insert_stack(connection, 'd', 'web', 'web', project_id='q')
    with pytest.raises(sa.exc.IntegrityError):
        with database.engine.begin() as connection:
            insert_stack(connection, 'e', 'web', 'web')


def test_constraint_names_follow_the_naming_convention(database):
    # api.stack_create recognises the live-name conflict by this name on the servers.
    inspector = sa.inspect(database.engine)
    unique = {c['name'] for c in inspector.get_unique_constraints('stack')}
    if database.dialect == 'mysql':
        unique |= {i['name'] for i in inspector.get_indexes('stack') if i['unique']}
    assert 'uq_stack_project_id_live_name' in unique
    fks = {fk['name'] for fk in inspector.get_foreign_keys('resource')}
    assert 'fk_resource_stack_id_stack' in fks
    indexes = {i['name'] for i in inspector.get_indexes('resource')}
    assert {'ix_resource_stack_id', 'ix_resource_stack_id_name'} <= indexes


def test_json_none_is_sql_null_and_values_are_text(database):
    with database.engine.begin() as connection:
        template_id = connection.execute(
            sa.insert(models.RawTemplate).values(template={'k': [1, True]}, files=None,
                                                 created_at=models.utcnow())
        ).inserted_primary_key[0]
        raw = connection.execute(sa.text(
            'SELECT template FROM raw_template WHERE id = :id AND files IS NULL'),
            {'id': template_id}).scalar_one()
    assert raw == '{"k":[1,true]}'


def test_mysql_tables_are_utf8mb4_and_case_sensitive(database):
    if database.dialect != 'mysql':
        pytest.skip('MySQL/MariaDB table options')
    with database.engine.connect() as connection:
        collations = set(connection.execute(sa.text(
            'SELECT table_collation FROM information_schema.tables '
            'WHERE table_schema = DATABASE() AND table_name IN :names'
        ).bindparams(sa.bindparam('names', expanding=True)),
            {'names': list(models.Base.metadata.tables)}).scalars())
    assert collations == {'utf8mb4_bin'}


def test_to_dict_has_every_column():
    stack = models.Stack(id='x', name='n')
    assert set(stack.to_dict()) == set(models.Stack.__table__.c.keys())
    assert stack.to_dict()['name'] == 'n'
