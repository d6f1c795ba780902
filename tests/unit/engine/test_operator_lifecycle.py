"""Operator lifecycle on both paths: stored outputs, mark-unhealthy, update --converge,
failures list and migrate-convergence, through the service and the real command line."""

import contextlib
import io

import pytest
import yaml

from heat_taskflow.cmd import shell
from heat_taskflow.engine import legacy
from heat_taskflow.persistence import api as db
from heat_taskflow.resources import base as res_base
from heat_taskflow.resources import registry
from tests.unit.conductors import harness
from tests.unit.engine.helpers import Paths, paths_on, res, rows, sqlite_only, tmpl


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, conf, database):
    with paths_on(request.param, conf, database) as on_path:
        yield on_path


def cli(service, *argv):
    """Run the real command line in process on a real service: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    app = shell.HeatTaskflowApp(service_factory=lambda conf: _Unclosed(service),
                                stdout=out, stderr=err)
    code = app.run(list(argv))
    return code, out.getvalue(), err.getvalue()


class _Unclosed:
    """The service as the command line sees it, minus close() (the fixture closes it)."""

    def __init__(self, service):
        self._service = service

    def __getattr__(self, name):
        if name == 'close':
            raise AttributeError(name)
        return getattr(self._service, name)


class PluginCalled(AssertionError):
    pass


@contextlib.contextmanager
def plugins_broken(monkeypatch):
    """Make any use of a resource plugin (lookup, instantiation, attribute read) raise."""

    def boom(*args, **kwargs):
        raise PluginCalled('a resource plugin was used')

    with monkeypatch.context() as patch:
        patch.setattr(registry, 'get_class', boom)
        patch.setattr(registry, 'get_template_resource_class', boom)
        for method in ('__init__', 'get_attribute', 'get_reference_id', 'resolve_attribute',
                       'handle_check'):
            patch.setattr(res_base.Resource, method, boom)
        yield


# -- 1. stored outputs --------------------------------------------------------------------

def test_outputs_are_read_from_stored_values_only(paths, monkeypatch):
    text = tmpl({'a': res('one'), 'b': res({'get_attr': ['a', 'output']})},
                outputs={'first': {'value': {'get_attr': ['a', 'output']},
                                   'description': 'from a'},
                         'both': {'value': {'list_join': [
                             '+', [{'get_attr': ['a', 'output']},
                                   {'get_attr': ['b', 'output']}]]}}})
    stack = paths.create('out', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    with plugins_broken(monkeypatch):
        with pytest.raises(PluginCalled):
            registry.get_class('OS::Heat::TestResource')
        view = paths.get_stack('out')
        assert {o['output_key']: o['output_value'] for o in view['outputs']} == {
            'first': 'one', 'both': 'one+one'}
        assert paths.show_output('out', 'both')['output_value'] == 'one+one'
        assert {o['output_key'] for o in paths.list_outputs('out')} == {'first', 'both'}

        code, out, err = cli(paths.service, 'stack', 'output', 'show', 'out', 'first',
                             '-f', 'value', '-c', 'output_value')
        assert (code, out.strip()) == (0, 'one'), err
        code, out, err = cli(paths.service, 'stack', 'output', 'show', 'out', '--all',
                             '-f', 'json')
        assert code == 0, err
        assert 'one+one' in out
        code, out, err = cli(paths.service, 'stack', 'output', 'list', 'out',
                             '-f', 'value', '-c', 'output_key')
        assert code == 0, err
        assert sorted(out.split()) == ['both', 'first']


# -- 2. stack resource mark-unhealthy ------------------------------------------------------

def test_mark_unhealthy_and_reset_through_the_command_line(paths):
    paths.create('mu', tmpl({'a': res('1'), 'b': res('2')}), 't.yaml')
    code, out, err = cli(paths.service, 'stack', 'resource', 'mark-unhealthy', 'mu', 'a',
                         '--reason', 'disk smells funny')
    assert code == 0, err
    assert 'CHECK_FAILED' in out
    row = rows(paths, 'mu')['a']
    assert (row.action, row.status, row.status_reason) == ('CHECK', 'FAILED',
                                                           'disk smells funny')
    assert rows(paths, 'mu')['b'].status == 'COMPLETE'
    last = paths.list_events('mu', resource_name='a')[-1]
    assert (last['resource_status'], last['resource_status_reason']) == (
        'CHECK_FAILED', 'disk smells funny')
    # The stack itself is not changed.
    assert paths.get_stack('mu')['stack_status'] == 'CREATE_COMPLETE'

    code, out, err = cli(paths.service, 'stack', 'resource', 'mark-unhealthy', 'mu', 'a',
                         '--reset')
    assert code == 0, err
    row = rows(paths, 'mu')['a']
    assert (row.action, row.status) == ('CHECK', 'COMPLETE')
    assert paths.list_events('mu', resource_name='a')[-1]['resource_status'] == \
        'CHECK_COMPLETE'

    # --reset of a resource that is not marked changes nothing.
    before = rows(paths, 'mu')['b']
    code, _, err = cli(paths.service, 'stack', 'resource', 'mark-unhealthy', 'mu', 'b',
                       '--reset')
    assert code == 0, err
    assert rows(paths, 'mu')['b'].atomic_key == before.atomic_key

    code, _, err = cli(paths.service, 'stack', 'resource', 'mark-unhealthy', 'mu', 'nope')
    assert code == 2
    assert 'resource "nope" not found in stack "mu"' in err


def test_mark_unhealthy_is_refused_while_the_stack_is_in_progress(paths):
    paths.create('busy', tmpl({'a': res('1')}), 't.yaml')
    stack = paths.service._stack('busy')
    db.stack_update(paths.database, stack.id, {'status': 'IN_PROGRESS', 'action': 'UPDATE'})
    try:
        code, _, err = cli(paths.service, 'stack', 'resource', 'mark-unhealthy', 'busy', 'a')
        assert code == 2
        assert 'stack "busy" has an operation in progress (UPDATE)' in err
        assert rows(paths, 'busy')['a'].status == 'COMPLETE'
    finally:
        db.stack_update(paths.database, stack.id, {'status': 'COMPLETE'})


# -- 3. stack update --existing --converge -------------------------------------------------

def test_update_existing_converge_replaces_drifted_and_unhealthy_resources(paths):
    text = tmpl({'gone': res('g'), 'sick': res('s'),
                 'fine': dict(res({'get_attr': ['gone', 'output']}), depends_on='sick')},
                outputs={'v': {'value': {'get_attr': ['fine', 'output']}}})
    assert paths.create('cv', text, 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    before = rows(paths, 'cv')
    # 'gone' vanished behind the engine's back; 'sick' is marked unhealthy by an operator.
    db.resource_data_set(paths.database, before['gone'].id, 'value', 'x')
    paths.mark_resource_unhealthy('cv', 'sick', reason='operator says so')

    # A plain update to the same template repairs nothing.
    stack = paths.update('cv', existing=True)
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    assert rows(paths, 'cv')['gone'].id == before['gone'].id

    code, out, err = cli(paths.service, 'stack', 'update', '--existing', '--converge',
                         '--wait', 'cv', '-f', 'value', '-c', 'stack_status')
    assert code == 0, err
    assert out.strip() == 'UPDATE_COMPLETE'
    stack = paths.get_stack('cv')
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    after = rows(paths, 'cv')
    for name in ('gone', 'sick'):
        assert after[name].id != before[name].id, name
        assert after[name].physical_resource_id != before[name].physical_resource_id, name
        assert (after[name].action, after[name].status) == ('CREATE', 'COMPLETE')
        assert name not in {r.name for r in db.resource_list(paths.database, stack['id'])
                            if r.replaced_by is not None}
    assert after['fine'].id == before['fine'].id
    assert after['fine'].physical_resource_id == before['fine'].physical_resource_id
    assert (after['fine'].action, after['fine'].status) == ('CREATE', 'COMPLETE')
    assert {o['output_key']: o['output_value'] for o in stack['outputs']} == {'v': 'g'}
    events = [(e['resource_name'], e['resource_status']) for e in paths.list_events('cv')]
    assert ('gone', 'CHECK_FAILED') in events
    assert ('fine', 'UPDATE_IN_PROGRESS') not in events
    # Reality matches the stored state again.
    assert paths.check('cv')['stack_status'] == 'CHECK_COMPLETE'


# -- 4. stack failures list ----------------------------------------------------------------

def test_failures_list_names_nested_failures_by_path(paths, monkeypatch):
    member = yaml.safe_dump({'heat_template_version': '2018-08-31',
                             'parameters': {'idx': {'type': 'string'}},
                             'resources': {'member': res({'get_param': 'idx'}, fail=True),
                                           'other': res('fine')}})
    text = tmpl({'group': {'type': 'OS::Heat::ResourceGroup',
                           'properties': {'count': 1, 'resource_def': {
                               'type': 'member.yaml', 'properties': {'idx': 'm%index%'}}}},
                 'ok': res('fine')})
    stack = paths.create('fl', text, 't.yaml', files={'member.yaml': member},
                         disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    paths.mark_resource_unhealthy('fl', 'ok', reason='operator says so')

    with plugins_broken(monkeypatch):       # stored state only
        failures = paths.list_failures('fl')
        code, out, err = cli(paths.service, 'stack', 'failures', 'list', 'fl',
                             '-f', 'value', '-c', 'resource_path', '-c', 'resource_status')
        assert code == 0, err
        assert sorted(out.splitlines()) == ['group.0.member CREATE_FAILED',
                                            'ok CHECK_FAILED']
        code, out, err = cli(paths.service, 'stack', 'failures', 'list', 'fl', '--long',
                             '-f', 'json')
        assert code == 0, err
    by_path = {f['resource_path']: f for f in failures}
    assert set(by_path) == {'group.0.member', 'ok'}
    assert 'Test Resource failed member' in by_path['group.0.member'][
        'resource_status_reason']
    assert by_path['ok']['resource_status_reason'] == 'operator says so'
    long = {f['resource_path']: f for f in yaml.safe_load(out)}
    assert long['group.0.member']['resource_type'] == 'OS::Heat::TestResource'
    assert long['group.0.member']['stack_name'] != 'fl'
    assert 'Test Resource failed member' in long['group.0.member']['resource_status_reason']

    paths.create('fine', tmpl({'a': res('1')}), 't.yaml')
    code, out, err = cli(paths.service, 'stack', 'failures', 'list', 'fine', '-f', 'value')
    assert (code, out.strip()) == (0, '')


# -- 6. heat-taskflow-manage migrate-convergence -------------------------------------------

def manage(conf_file, *argv):
    from heat_taskflow.cmd import manage as manage_mod

    out, err = io.StringIO(), io.StringIO()
    code = manage_mod.ManageApp(stdout=out, stderr=err).run(
        ['--config-file', str(conf_file), *argv])
    return code, out.getvalue(), err.getvalue()


def nested_tmpl(inner):
    child = {'heat_template_version': '2018-08-31', 'resources': {'inner': res(inner)},
             'outputs': {'v': {'value': {'get_attr': ['inner', 'output']}}}}
    return tmpl({'top': res('t'),
                 'n': {'type': 'OS::Heat::Stack',
                       'properties': {'template': yaml.safe_dump(child)}}},
                outputs={'v': {'value': {'get_attr': ['n', 'outputs', 'v']}}})


def test_migrate_convergence_moves_a_finished_legacy_family(conf, tmp_path):
    from heat_taskflow.persistence.database import Database

    url = 'sqlite:///%s' % (tmp_path / 'heat.sqlite')
    conf_file = tmp_path / 'heat-taskflow.conf'
    conf_file.write_text('[database]\nconnection = %s\n' % url)
    database = Database(url)
    database.sync()
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    try:
        service = harness.make_service(conf, database, executors)
        stack = service.create_stack('mig', nested_tmpl('one'), 't.yaml')
        assert (stack['stack_status'], stack['path']) == ('CREATE_COMPLETE', 'legacy')
        child = db.stack_list(database, 'default', owner_id=stack['id'])[0]
        bad = service.create_stack('bad', tmpl({'x': res('x', fail=True)}), 't.yaml',
                                   disable_rollback=True)
        assert bad['stack_status'] == 'CREATE_FAILED'

        code, out, err = manage(conf_file, 'migrate-convergence', 'bad')
        assert code == 1 and out == ''
        assert 'stack "bad" not migrated: it is CREATE_FAILED' in err
        assert db.stack_get(database, bad['id']).convergence is False
        code, _, err = manage(conf_file, 'migrate-convergence', 'nope')
        assert code == 2 and 'stack "nope" not found' in err

        # A nested stack in another state stops the whole family; nothing changes.
        db.stack_update(database, child.id, {'action': 'UPDATE', 'status': 'FAILED'})
        code, _, err = manage(conf_file, 'migrate-convergence', 'mig')
        assert code == 1
        assert 'its nested stack %s (%s) is UPDATE_FAILED' % (child.name, child.id) in err
        assert db.stack_get(database, stack['id']).convergence is False
        db.stack_update(database, child.id, {'action': 'CREATE', 'status': 'COMPLETE'})

        code, out, err = manage(conf_file, 'migrate-convergence', 'mig')
        assert code == 0, err
        assert 'stack mig (%s): CREATE_COMPLETE, legacy -> distributed' % stack['id'] in out
        assert 'stack %s (%s)' % (child.name, child.id) in out
        assert '2 stack(s) moved' in out
        assert db.stack_get(database, stack['id']).convergence is True
        assert db.stack_get(database, child.id).convergence is True
        assert service.get_stack('mig')['path'] == 'distributed'

        code, _, err = manage(conf_file, 'migrate-convergence', 'mig')
        assert code == 1 and 'it is already on the distributed path' in err

        # The next update runs on the distributed path: conductors on a zake board, and a
        # service that has no legacy runner at all.
        board = harness.distributed_conf(conf)
        dist = harness.make_service(conf, database, executors)
        del dist.engine.runners['legacy']
        try:
            with harness.conductors(conf, database, count=2):
                view = dist.update_stack('mig', nested_tmpl('two'), 't.yaml')
                view = harness.settle(dist, view['id'])
                assert view['stack_status'] == 'UPDATE_COMPLETE', view['stack_status_reason']
                assert {o['output_key']: o['output_value']
                        for o in dist.get_stack('mig')['outputs']} == {'v': 'two'}
        finally:
            dist.close()
            harness.forget_board(board)
    finally:
        executors.shutdown()
        database.dispose()


# -- 7. check and --converge descend into nested stacks ------------------------------------

def _child(paths, stack_name, resource_name):
    parent = paths.service._stack(stack_name)
    return next(s for s in db.stack_list(paths.database, 'default', owner_id=parent.id)
                if s.parent_resource_name == resource_name)


def _drift(paths, stack_id, name):
    """Make a TestResource in a (nested) stack differ from what the engine stored."""
    row = db.resource_get_by_name(paths.database, stack_id, name)
    db.resource_data_set(paths.database, row.id, 'value', 'drifted')
    return row


def nested_family():
    member = yaml.safe_dump({'heat_template_version': '2018-08-31',
                             'parameters': {'idx': {'type': 'string'}},
                             'resources': {'leaf': res({'get_param': 'idx'})},
                             'outputs': {'v': {'value': {'get_attr': ['leaf', 'output']}}}})
    text = tmpl({'top': res('t'),
                 'n': {'type': 'OS::Heat::Stack',
                       'properties': {'template': yaml.safe_dump(
                           {'heat_template_version': '2018-08-31',
                            'resources': {'inner': res('i'), 'peer': res('p')},
                            'outputs': {'v': {'value': {'get_attr': ['inner', 'output']}}}})}},
                 'group': {'type': 'OS::Heat::ResourceGroup',
                           'properties': {'count': 2, 'resource_def': {
                               'type': 'member.yaml', 'properties': {'idx': 'm%index%'}}}}},
                outputs={'v': {'value': {'get_attr': ['n', 'outputs', 'v']}}})
    return text, {'member.yaml': member}


@sqlite_only
def test_check_descends_into_nested_stacks(paths):
    text, files = nested_family()
    assert paths.create('nc', text, 't.yaml', files=files)['stack_status'] == \
        'CREATE_COMPLETE'
    assert paths.check('nc')['stack_status'] == 'CHECK_COMPLETE'
    child = _child(paths, 'nc', 'n')
    _drift(paths, child.id, 'inner')
    # Two levels down: the group's member 1 is a template resource whose leaf drifted.
    group = _child(paths, 'nc', 'group')
    member = next(s for s in db.stack_list(paths.database, 'default', owner_id=group.id)
                  if s.parent_resource_name == '1')
    _drift(paths, member.id, 'leaf')

    stack = paths.check('nc')
    assert stack['stack_status'] == 'CHECK_FAILED'
    assert stack['stack_status_reason'] == 'Check failed for resources: group, n'
    top = rows(paths, 'nc')
    assert (top['top'].action, top['top'].status) == ('CHECK', 'COMPLETE')
    assert (top['n'].action, top['n'].status) == ('CHECK', 'FAILED')
    assert "resource 'inner'" in top['n'].status_reason
    assert "'peer'" not in top['n'].status_reason
    assert "resource '1'" in top['group'].status_reason
    assert "resource 'leaf'" in top['group'].status_reason
    assert "'0'" not in top['group'].status_reason
    inner = {r.name: r for r in db.resource_list(paths.database, child.id)}
    assert (inner['inner'].action, inner['inner'].status) == ('CHECK', 'FAILED')
    assert (inner['peer'].action, inner['peer'].status) == ('CHECK', 'COMPLETE')
    assert db.stack_get(paths.database, child.id).status == 'FAILED'

    # An update repairs the marked resources inside, in place: the nested stacks stay.
    stack = paths.update('nc', existing=True)
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    assert _child(paths, 'nc', 'n').id == child.id
    assert _child(paths, 'nc', 'group').id == group.id
    assert paths.check('nc')['stack_status'] == 'CHECK_COMPLETE'


@sqlite_only
def test_update_converge_repairs_drift_inside_nested_stacks(paths):
    text, files = nested_family()
    assert paths.create('nv', text, 't.yaml', files=files)['stack_status'] == \
        'CREATE_COMPLETE'
    child = _child(paths, 'nv', 'n')
    group = _child(paths, 'nv', 'group')
    member = next(s for s in db.stack_list(paths.database, 'default', owner_id=group.id)
                  if s.parent_resource_name == '0')
    inner_before = {r.name: r for r in db.resource_list(paths.database, child.id)}
    leaf_before = _drift(paths, member.id, 'leaf')
    _drift(paths, child.id, 'inner')
    paths.mark_resource_unhealthy(child.id, 'peer', reason='operator says so')

    # A plain update does not look inside.
    assert paths.update('nv', existing=True)['stack_status'] == 'UPDATE_COMPLETE'
    assert db.resource_get_by_name(paths.database, child.id, 'inner').id == \
        inner_before['inner'].id

    stack = paths.update('nv', existing=True, converge=True)
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    assert _child(paths, 'nv', 'n').id == child.id
    assert _child(paths, 'nv', 'group').id == group.id
    after = {r.name: r for r in db.resource_list(paths.database, child.id,
                                                   current_only=True)}
    for name in ('inner', 'peer'):
        assert after[name].physical_resource_id != \
            inner_before[name].physical_resource_id, name
        assert (after[name].action, after[name].status) == ('CREATE', 'COMPLETE'), name
    leaf = db.resource_get_by_name(paths.database, member.id, 'leaf')
    assert leaf.physical_resource_id != leaf_before.physical_resource_id
    assert leaf.attributes['output'] == 'm0'
    events = [(e['resource_name'], e['resource_status'], e['resource_status_reason'])
              for e in paths.list_events('nv')]
    assert any(n == 'n' and s == 'CHECK_FAILED' and "resource 'inner'" in r
               for n, s, r in events), events
    assert ('top', 'CHECK_FAILED') not in {(n, s) for n, s, _ in events}
    assert {o['output_key']: o['output_value'] for o in stack['outputs']} == {'v': 'i'}
    assert paths.check('nv')['stack_status'] == 'CHECK_COMPLETE'


# -- 8. ResourceGroup attribute paths, from stored values ----------------------------------

@sqlite_only
def test_group_attribute_paths_resolve_from_stored_values(paths, monkeypatch):
    member = yaml.safe_dump({'heat_template_version': '2018-08-31',
                             'resources': {'r': res('in')},
                             'outputs': {'key': {'value': {'get_attr': ['r', 'output']}},
                                         'm': {'value': {'a': 'deep'}}}})
    group = {'type': 'OS::Heat::ResourceGroup', 'properties': {'count': 2, 'resource_def': {
        'type': 'OS::Heat::Stack', 'properties': {'template': member}}}}
    wanted = {
        'outputs_key': (['g', 'outputs', 'key'], ['in', 'in']),
        'outputs_deep': (['g', 'outputs', 'm', 'a'], ['deep', 'deep']),
        'attributes': (['g', 'attributes', 'outputs', 'key'], {'0': 'in', '1': 'in'}),
        'resource_n_attr': (['g', 'resource.1.outputs', 'key'], 'in'),
        'resource_n_path': (['g', 'resource.1', 'outputs', 'm', 'a'], 'deep'),
        'removed': (['g', 'removed_rsrc_list'], []),
        'refs_n': (['g', 'refs', 1], None),         # filled in below: member 1's stack id
    }
    text = tmpl({'g': group, 'v': {'type': 'OS::Heat::Value', 'properties': {
        'value': {'get_attr': ['g', 'attributes', 'outputs', 'key']}}}},
        outputs={k: {'value': {'get_attr': p}} for k, (p, _) in wanted.items()})
    stack = paths.create('ga', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    grp = _child(paths, 'ga', 'g')
    ids = {s.parent_resource_name: s.id
           for s in db.stack_list(paths.database, 'default', owner_id=grp.id)}
    expected = {k: v for k, (_, v) in wanted.items()}
    expected['refs_n'] = ids['1']
    # Another resource's properties read a member path too.
    assert rows(paths, 'ga')['v'].attributes['value'] == {'0': 'in', '1': 'in'}
    assert {o['output_key']: o['output_value']
            for o in paths.get_stack('ga')['outputs']} == expected
    stack_row = paths.service._stack('ga')
    defn = paths.service.engine.stack_definition(stack_row, stack_row.raw_template_id)
    db.output_set_all(paths.database, stack_row.id, {})
    with plugins_broken(monkeypatch):       # outputs are resolved from stored values only
        paths.service.engine.store_outputs(stack_row, defn)
        assert {o['output_key']: o['output_value']
                for o in paths.get_stack('ga')['outputs']} == expected


@sqlite_only
def test_nested_drift_is_observed_without_marks_unless_asked(service):
    from heat_taskflow.engine import nested as nested_mod
    from heat_taskflow.flows import actions

    paths = Paths('legacy', service)    # the observation runs in the calling process
    assert paths.create('no', nested_tmpl('x'), 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    parent = paths.service._stack('no')
    child = _child(paths, 'no', 'n')
    _drift(paths, child.id, 'inner')
    nested = nested_mod.NestedStackService(paths.service.engine, parent).for_resource('n')
    seen = nested.drifted(child.id)
    assert list(seen) == ['inner'] and "stored value 'drifted'" in seen['inner']
    inner = db.resource_get_by_name(paths.database, child.id, 'inner')
    assert (inner.action, inner.status) == ('CREATE', 'COMPLETE')      # observed only
    # What the observer asks of a parent row: the reason names the inner resource.
    runtime = actions.rt_mod.OperationRuntime(
        paths.database, parent, 'CHECK', parent.current_traversal,
        paths.service.engine.stack_definition(parent, parent.raw_template_id),
        None, 'test', nested=nested_mod.NestedStackService(paths.service.engine, parent))
    reason = actions.drift(runtime, rows(paths, 'no')['n'])
    assert "resource 'inner'" in reason
    assert db.resource_get_by_name(paths.database, child.id, 'inner').status == 'COMPLETE'
    assert rows(paths, 'no')['n'].status == 'COMPLETE'

    assert list(nested.drifted(child.id, mark=True)) == ['inner']
    inner = db.resource_get_by_name(paths.database, child.id, 'inner')
    assert (inner.action, inner.status) == ('CHECK', 'FAILED')


@sqlite_only
def test_the_engine_says_it_started_a_child_stack_check(service):
    # NestedStackService.check_stack's contract: True once started (False: cannot check,
    # the plugin's check stays shallow).
    from heat_taskflow.engine import nested as nested_mod

    paths = Paths('legacy', service)
    assert paths.create('chk', nested_tmpl('x'), 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    parent = paths.service._stack('chk')
    child = _child(paths, 'chk', 'n')
    nested = nested_mod.NestedStackService(paths.service.engine, parent).for_resource('n')
    assert nested.check_stack(child.id) is True
    assert db.stack_get(paths.database, child.id).action == 'CHECK'
