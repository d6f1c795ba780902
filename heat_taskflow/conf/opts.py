"""Every option heat-taskflow reads, grouped as in the sample config."""

import os

from oslo_config import cfg

STATE_DIR_ENV = 'HEAT_TASKFLOW_STATE_DIR'


def default_state_dir():
    """The per-user state directory, or $HEAT_TASKFLOW_STATE_DIR when set."""
    if os.environ.get(STATE_DIR_ENV):
        return os.environ[STATE_DIR_ENV]
    base = os.environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    return os.path.join(base, 'heat-taskflow')


default_opts = [
    cfg.StrOpt('state_dir',
               default=default_state_dir(),
               sample_default='$XDG_STATE_HOME/heat-taskflow',
               help='Directory holding local state (the default SQLite database). '
                    'The environment variable %s overrides the default.' % STATE_DIR_ENV),
    # Not "project": oslo.config reserves that name (the program's project).
    cfg.StrOpt('project_id',
               default='default',
               help='The project (id) the heat-taskflow command line acts in: it creates, '
                    'lists and finds stacks of this project only, as the API does for '
                    'a caller of that project (the API takes the project from the '
                    'request, never from here).'),
    cfg.BoolOpt('convergence_engine',
                default=False,
                help='Create new stacks on the distributed (convergence) path, whose '
                     'resource tasks are jobs on the job board run by conductors. '
                     'The choice is recorded on each stack for its whole life.'),
    cfg.BoolOpt('enable_test_resource_types',
                default=False,
                help='Let templates name the test-only resource types (the '
                     'heat_taskflow.test_resources entry points: OS::Heat::TestLedger, '
                     'which writes a file the template names, and OS::Heat::TestResource '
                     'with its endless negative wait). For test deployments only: '
                     'elsewhere a template naming one is refused as an unknown type.'),
    cfg.IntOpt('max_resources_per_stack',
               default=10000, min=-1,
               help='Most resources one stack (not counting nested stacks) may hold; '
                    '-1 for no limit.'),
    cfg.IntOpt('max_nested_stack_depth',
               default=5, min=0,
               help='Deepest nesting of stacks (template resources, OS::Heat::Stack, '
                    'resource groups).'),
    cfg.IntOpt('max_template_size',
               default=524288, min=1,
               help='Largest template or environment accepted, in bytes.'),
    cfg.IntOpt('max_template_depth',
               default=100, min=1,
               help='Deepest nesting of maps and lists accepted in a template.'),
    cfg.IntOpt('max_template_nodes',
               default=1000000, min=1,
               help='Most YAML nodes a template, environment or child template may hold '
                    'once every alias is expanded.'),
    cfg.IntOpt('max_template_expanded_size',
               default=8 * 1024 * 1024, min=1,
               help='Most bytes of scalar text a template, environment or child template '
                    'may hold once every YAML alias is expanded.'),
    cfg.IntOpt('max_files_size',
               default=10 * 1024 * 1024, min=1,
               help='Most bytes the files map of one stack (get_file targets and child '
                    'templates together) may hold.'),
    cfg.IntOpt('max_resolved_size',
               default=8 * 1024 * 1024, min=1,
               help='Most bytes of data one resolution (the properties of a resource, an '
                    'output, a condition) may build with intrinsic functions.'),
    cfg.FloatOpt('yaql_timeout',
                 default=2.0, min=0.01,
                 help='Seconds one yaql expression may run.'),
    cfg.IntOpt('yaql_memory',
               default=512 * 1024 * 1024, min=16 * 1024 * 1024,
               help='Bytes of memory the process evaluating yaql expressions may use.'),
    cfg.FloatOpt('regex_timeout',
                 default=1.0, min=0.01,
                 help='Seconds one regular-expression match (allowed_pattern, yaql '
                      'regex functions) may run.'),
    cfg.IntOpt('default_timeout',
               default=60, min=1,
               help='Timeout of a stack operation in minutes when none is given.'),
    cfg.IntOpt('max_concurrent_resource_actions',
               default=16, min=1,
               help='Resource actions run at the same time by one legacy operation '
                    '(the size of the thread pool the engine owns).'),
    cfg.IntOpt('max_background_operations',
               default=32, min=1,
               help='Legacy stack operations a service running them in the background '
                    '(the API service) runs at the same time; more wait their turn, '
                    'held by the heartbeat of the process.'),
    cfg.FloatOpt('shutdown_timeout',
                 default=10.0, min=0,
                 help='Seconds a service running legacy operations in the background '
                      'waits for them when it stops. One still running then is left '
                      'IN_PROGRESS with its heartbeat stopped: "heat-taskflow stack '
                      'resume", or the next start of the API service, continues it.'),
    cfg.BoolOpt('encrypt_parameters_and_properties',
                default=False,
                help='Encrypt at rest, with the key of auth_encryption_key_file, every '
                     'stored value that may hold a secret: templates, files and '
                     'environments as submitted (hidden parameter values included), stack '
                     'parameters, resource properties, attributes and data, outputs and '
                     'sync-point data (Fernet: AES-128-CBC and HMAC-SHA256). Values '
                     'stored in clear before it was turned on stay readable; '
                     '"heat-taskflow-manage key rotate" encrypts them. A process refuses '
                     'to start with this on and no usable key.'),
    cfg.StrOpt('auth_encryption_key_file',
               default='$state_dir/encryption.key',
               help='File of the keys encrypting stored values (one Fernet key per line, '
                    'the first encrypts, the others only decrypt), mode 0600. Make it '
                    'with "heat-taskflow-manage key generate"; change keys with '
                    '"heat-taskflow-manage key rotate" and "key retire". Read even with '
                    'encrypt_parameters_and_properties off, when it exists, so that values '
                    'encrypted earlier stay readable.'),
    cfg.FloatOpt('legacy_heartbeat_interval',
                 default=5.0, min=0.1,
                 help='Seconds between the heartbeats a process records on each legacy '
                      'stack whose operation it runs. "heat-taskflow stack resume" treats '
                      'an operation as interrupted once its heartbeat is 3 intervals old.'),
]

database_opts = [
    cfg.StrOpt('connection',
               default='sqlite:///$state_dir/heat-taskflow.sqlite',
               secret=True,
               help='SQLAlchemy URL of the database holding stacks, resources, events '
                    'and TaskFlow logbooks (sqlite://, postgresql+psycopg2://, '
                    'mysql+pymysql://).'),
    cfg.FloatOpt('logbook_write_behind',
                 default=0.05,
                 min=0,
                 help='Seconds a TaskFlow atom state may wait in memory before it is '
                      'written to the logbook, batched with others in one transaction '
                      '(0: each is written at once). A crash loses at most this much of '
                      'the logbook; the resource actions it covers run again on resume, '
                      'which they are safe to do.'),
]


jobboard_opts = [
    cfg.StrOpt('url',
               default='zake://heat-taskflow',
               help='Where the distributed path posts its jobs, chosen by scheme: '
                    'zookeeper://HOST:PORT[,HOST:PORT...]/PATH for ZooKeeper, or '
                    'zake://NAME for an in-process fake ZooKeeper shared by the '
                    'conductors of one process only (the stack command line then runs '
                    'a conductor itself, so it works on one host without a server).'),
    cfg.FloatOpt('session_timeout',
                 default=10.0, min=1.0,
                 help='ZooKeeper session timeout in seconds: how long after a conductor '
                      'dies its claims vanish and another conductor takes its jobs (the '
                      'server clamps it to its own minimum and maximum).'),
    cfg.FloatOpt('connect_timeout',
                 default=10.0, min=0.1,
                 help='Seconds to wait for the job board server when connecting.'),
    cfg.FloatOpt('post_retry_timeout',
                 default=30.0, min=0.0,
                 help='Seconds a traversal\'s start retries posting its first jobs while '
                      'the job board is unavailable (connection lost, session expired), '
                      'with back-off, never past the traversal\'s deadline. When that runs '
                      'out the operation does not fail: the stack stays IN_PROGRESS and '
                      'the conductors\' lost-post sweep posts those jobs once the board is '
                      'back.'),
]

conductor_opts = [
    cfg.IntOpt('jobs',
               default=8, min=1,
               help='Jobs (resource actions) one conductor runs at the same time.'),
    cfg.IntOpt('max_attempts',
               default=3, min=1,
               help='Times a job may be claimed and fail to finish (its conductor died, '
                    'or its bookkeeping failed) before it is moved to the job board\'s '
                    'trash and its stack fails. A resource action that fails is not '
                    'retried: it fails the stack at once.'),
    cfg.FloatOpt('wait_timeout',
                 default=0.1, min=0.01,
                 help='Seconds an idle conductor waits before it looks at the job board '
                      'again (new jobs wait up to this long to be claimed).'),
    cfg.StrOpt('health_file',
               default='$state_dir/heat-taskflow-conductor.json',
               help='JSON file the conductor daemon rewrites periodically with its pid, '
                    'host, start time, last heartbeat and the jobs it holds (give each '
                    'daemon on a host its own file). Empty: no health file.'),
    cfg.FloatOpt('health_interval',
                 default=5.0, min=0.1,
                 help='Seconds between two refreshes of the health file.'),
    cfg.FloatOpt('watchdog_interval',
                 default=5.0, min=0.01,
                 help='Seconds between two looks of the conductor\'s watchdog for '
                      'distributed stacks IN_PROGRESS past their timeout. The first '
                      'conductor to see one fails its traversal (then the rollback runs as '
                      'for any failure), even if a resource action hangs: a stack never '
                      'stays IN_PROGRESS much longer than its timeout.'),
    cfg.FloatOpt('board_backoff',
                 default=0.5, min=0.0,
                 help='Seconds a conductor claims no job after a job board failure (its '
                      'ZooKeeper connection suspended or lost, a claim or a job\'s post '
                      'failing on it), doubling while failures repeat, up to 10 times this; '
                      'after as long without a failure it starts from this again. It claims '
                      'nothing either while it is not connected. A job that met a board '
                      'failure is handed back without counting an attempt. 0: no back-off.'),
    cfg.FloatOpt('retry_backoff',
                 default=0.5, min=0.0,
                 help='Seconds a conductor leaves a job it handed back (not finished: its '
                      'bookkeeping or the job board failed) to other conductors before it '
                      'claims that job again, doubling with each hand-back of the job, up to '
                      '10 times this. 0: it may claim it again at once.'),
]

observer_opts = [
    cfg.FloatOpt('interval',
                 default=0.0, min=0.0,
                 help='Seconds between two checks of one stack by the continuous observer '
                      'that runs on every conductor; 0 (the default) turns it off. The '
                      'observer asks the plugin of each resource of a COMPLETE stack of the '
                      'distributed path to check the real resource, records what drifted '
                      'as events (CHECK_DRIFTED), and on stacks created or updated with '
                      '--auto-converge starts "stack update --existing --converge". '
                      'Stacks on the legacy path are not observed (no conductor runs '
                      'them).'),
    cfg.IntOpt('max_stacks_per_pass',
               default=10, min=1,
               help='Most stacks one conductor\'s observer checks in one pass; the '
                    'conductors share the stacks due for a check.'),
]


def register_opts(conf):
    """Register every option on conf."""
    conf.register_opts(default_opts)
    conf.register_opts(database_opts, group='database')
    conf.register_opts(jobboard_opts, group='jobboard')
    conf.register_opts(conductor_opts, group='conductor')
    conf.register_opts(observer_opts, group='observer')


def list_opts():
    """Options for oslo-config-generator, by group."""
    return [
        ('DEFAULT', default_opts),
        ('database', database_opts),
        ('jobboard', jobboard_opts),
        ('conductor', conductor_opts),
        ('observer', observer_opts),
    ]
