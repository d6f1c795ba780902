"""heat_taskflow/simcloud/storage.py: objects, the audit, behaviour and quotas in SQLite."""

from heat_taskflow.simcloud import storage


def test_objects_are_found_by_parent_and_field(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    with store.tx() as tx:
        tx.insert('ports', {'network_id': 'n1', 'name': 'a'}, token='t-a', parent='s1')
        tx.insert('ports', {'network_id': 'n2', 'name': 'b'}, token='t-b')
    with store.tx() as tx:
        assert [p['name'] for p in tx.find('ports', parent='s1')] == ['a']
        assert [p['name'] for p in tx.find('ports', network_id='n2')] == ['b']
        assert [c['token'] for c in tx.creations(kind='ports')] == ['t-a', 't-b']
        assert tx.count('ports') == 2
        assert tx.find('networks') == []


def test_state_survives_reopening_the_file(tmp_path):
    path = str(tmp_path / 'db.sqlite')
    store = storage.Store(path)
    with store.tx() as tx:
        obj = tx.insert('volumes', {'size': 1}, token='tok')
        tx.set_behaviour('volumes.create', {'latency': 0.5})
        tx.set_quota('volumes', 3)
    store.close()
    again = storage.Store(path)
    with again.tx() as tx:
        assert tx.get('volumes', obj['id'])['size'] == 1
        assert tx.behaviours() == {'volumes.create': {'latency': 0.5}}
        assert tx.quotas() == {'volumes': 3}
        assert [c['token'] for c in tx.creations()] == ['tok']


def test_delete_marks_the_creation_deleted_and_keeps_it_in_the_audit(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    with store.tx() as tx:
        obj = tx.insert('servers', {'name': 's'}, token='stack/s/1')
        tx.insert('servers', {'name': 't'}, token='other/t/1')
    with store.tx() as tx:
        tx.delete('servers', obj['id'], by='admin')
    with store.tx() as tx:
        assert tx.get('servers', obj['id']) is None
        creations = tx.creations(token_prefix='stack/')
    assert len(creations) == 1
    assert creations[0]['deleted_by'] == 'admin' and creations[0]['deleted_at'] is not None


def test_a_rolled_back_transaction_leaves_nothing(tmp_path):
    store = storage.Store(str(tmp_path / 'db.sqlite'))
    try:
        with store.tx() as tx:
            tx.insert('networks', {'name': 'n'}, token='t')
            raise RuntimeError('refused')
    except RuntimeError:
        pass
    with store.tx() as tx:
        assert tx.count('networks') == 0
        assert tx.creations() == []


def test_quota_of_minus_one_removes_the_limit(tmp_path):
    store = storage.Store(':memory:')
    with store.tx() as tx:
        tx.set_quota('servers', 2)
        tx.set_quota('servers', -1)
        assert tx.quotas() == {}
