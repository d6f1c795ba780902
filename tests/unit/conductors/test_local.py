"""conductors/local.py: on a zake board the stack service runs its own conductor, as the
command line uses it; on a shared board it only posts."""

import yaml

from heat_taskflow.conductors import local
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.jobs import impl_zake
from tests.unit.conductors import harness


def test_zake_service_runs_a_conductor_in_process_and_settles_on_close(conf, database):
    board = harness.distributed_conf(conf)
    executors = legacy.ExecutorPool(2)
    service = local.stack_service(conf, database=database, executors=executors)
    assert isinstance(service, local.LocalStackService)
    text = yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': {
        'a': {'type': 'OS::Heat::TestResource', 'properties': {'value': 'v'}}}})
    try:
        stack = service.create_stack('cli', text, 't.yaml')
        assert stack['path'] == 'distributed'
        assert stack['stack_status'] == 'CREATE_IN_PROGRESS'
        # Without --wait the command line just closes the service: that lets the stack
        # settle first, since the board dies with the process.
        service.close()
        assert service.get_stack('cli')['stack_status'] == 'CREATE_COMPLETE'
        service.delete_stack('cli')
        assert harness.settle(service, 'cli')['stack_status'] == 'DELETE_COMPLETE'
    finally:
        service.close()
        executors.shutdown()
        impl_zake.forget(board)


def test_a_shared_board_gets_a_service_that_only_posts(conf, database):
    conf.set_override('url', 'zookeeper://127.0.0.1:1/heat-taskflow', group='jobboard')
    service = local.stack_service(conf, database=database, executors=legacy.ExecutorPool(1))
    assert type(service) is service_mod.StackService
