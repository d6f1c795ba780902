"""The tag index of heat_taskflow/simcloud/storage.py that Neutron's tag filters read."""

import sqlalchemy as sa

from heat_taskflow.simcloud import storage


def _names(bodies):
    return sorted(b['name'] for b in bodies)


def test_tag_filters_follow_neutron(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    with store.tx() as tx:
        tx.insert('ports', {'name': 'ab', 'tags': ['a', 'b']})
        tx.insert('ports', {'name': 'a', 'tags': ['a']})
        tx.insert('ports', {'name': 'c', 'tags': ['c']})
        tx.insert('networks', {'name': 'net-a', 'tags': ['a']})
    with store.tx() as tx:
        assert _names(tx.find('ports', tagged={'all': ['a', 'b']})) == ['ab']
        assert _names(tx.find('ports', tagged={'any': ['b', 'c']})) == ['ab', 'c']
        assert _names(tx.find('ports', tagged={'not_all': ['a', 'b']})) == ['a', 'c']
        assert _names(tx.find('ports', tagged={'not_any': ['b', 'c']})) == ['a']
        assert _names(tx.find('ports', tagged={'all': ['a'], 'not_any': ['b']})) == ['a']


def test_the_index_follows_updates_and_deletes(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    with store.tx() as tx:
        port = tx.insert('ports', {'name': 'p', 'tags': ['old']})
    with store.tx() as tx:
        tx.update('ports', dict(port, tags=['new']))
    with store.tx() as tx:
        assert tx.find('ports', tagged={'all': ['old']}) == []
        assert _names(tx.find('ports', tagged={'all': ['new']})) == ['p']
        tx.delete('ports', port['id'])
        assert tx.find('ports', tagged={'any': ['new']}) == []
        count = tx.connection.execute(sa.select(sa.func.count()).select_from(storage.tags))
        assert count.scalar_one() == 0


def _plan(store, *where):
    query = sa.select(storage.objects.c.body).where(storage.objects.c.kind == 'ports', *where)
    sql = str(query.compile(store.engine, compile_kwargs={'literal_binds': True}))
    with store.engine.connect() as connection:
        return ' '.join(str(row[-1]) for row in connection.exec_driver_sql(
            'EXPLAIN QUERY PLAN ' + sql))


def test_tag_and_field_filters_read_indexes(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    plan = _plan(store, *storage._tag_clauses('ports', {'all': ['htf-x']}))
    assert 'ix_tags_kind_tag' in plan or 'sqlite_autoindex_tags' in plan, plan
    for key in ('network_id', 'device_id'):
        query = storage._find_query(False, ((key, False),))
        with store.engine.connect() as connection:
            plan = ' '.join(str(row[-1]) for row in connection.execute(
                sa.text('EXPLAIN QUERY PLAN %s' % query), {'kind': 'ports', 'f_' + key: 'x'}))
        assert 'USING INDEX ix_objects_%s' % key in plan, plan


def test_indexed_fields_are_found(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    with store.tx() as tx:
        tx.insert('ports', {'name': 'a', 'network_id': 'n1', 'device_id': 'd1'})
        tx.insert('ports', {'name': 'b', 'network_id': 'n2', 'device_id': ''})
    with store.tx() as tx:
        assert _names(tx.find('ports', network_id='n1')) == ['a']
        assert _names(tx.find('ports', device_id='')) == ['b']
        assert _names(tx.find('ports', network_id='n2', name='b')) == ['b']
