"""A real, private Keystone for tests: PyPI's keystone on SQLite, served by gunicorn on loopback.

``tools/ensure-keystone`` installs Keystone and gunicorn in a venv of their own, cached under
``$XDG_CACHE_HOME/heat-taskflow/keystone-venv`` (``missing()`` says why a server cannot be
started here). ``KeystoneServer`` writes a keystone.conf in a directory of the caller's, runs
``keystone-manage db_sync``, ``fernet_setup``, ``credential_setup`` and ``bootstrap`` (user
admin in project admin, region RegionOne, the identity endpoint on a free loopback port), and
serves ``keystone.wsgi.api:application`` until ``stop()``.

The session fixture ``keystone`` (import it from this module into a test module) then creates,
with keystoneclient from the project's own venv over HTTP: projects ``project-a`` and
``project-b`` with a member of each (roles member and reader), a reader-only user of
project-a, a ``heat`` service user with only the role ``service`` in project ``service``,
and the orchestration service with its public endpoint
``http://127.0.0.1:API_PORT/v1/%(project_id)s`` on a free port kept for the API under test
(``Keystone.api_port``). It skips with the reason when Keystone is not installed or does not
start.
"""

import atexit
import dataclasses
import os
import subprocess
import sys
import time

import pytest
import requests

from tests.functional.zookeeper import _die_with_parent, file_tail, free_port, stop_process

VENV = os.environ.get('HEAT_TASKFLOW_KEYSTONE_VENV') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache'),
    'heat-taskflow', 'keystone-venv')
MARK = os.path.join(VENV, '.heat-taskflow-installed')
# Keystone 30 (2025.2) ships its WSGI application as keystone.wsgi.api:application (older
# ones had the factory keystone.server.wsgi:initialize_public_application). It parses
# sys.argv with oslo.config when imported, so gunicorn's own arguments must be out of sight:
# gunicorn serves this shim from the work directory instead.
WSGI_SHIM = '''\
import sys

sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402,F401
'''

REGION = 'RegionOne'
ADMIN_PASSWORD = 'admin-s3cret'
PASSWORD = 's3cret'     # every other user's


class KeystoneError(Exception):
    """Keystone could not be set up or did not answer."""


def missing():
    """Why a Keystone server cannot be started here, or None when it can."""
    if not os.path.isfile(MARK):
        return ('no Keystone venv at %s: tools/ensure-keystone installs it (PyPI keystone '
                'and gunicorn; it needs the network once)' % VENV)
    for tool in ('keystone-manage', 'gunicorn'):
        if not os.access(os.path.join(VENV, 'bin', tool), os.X_OK):
            return '%s is missing from %s: run tools/ensure-keystone' % (tool, VENV)
    return None


class KeystoneServer:
    """One Keystone on 127.0.0.1 with its database, keys and log under ``workdir``."""

    host = '127.0.0.1'

    def __init__(self, workdir):
        self.workdir = os.fspath(workdir)
        self.port = None
        self.process = None
        self.config = os.path.join(self.workdir, 'keystone.conf')
        self.log_path = os.path.join(self.workdir, 'keystone.log')
        self.timings = {}

    @property
    def url(self):
        """The identity endpoint (``http://127.0.0.1:PORT/v3``)."""
        return 'http://%s:%d/v3' % (self.host, self.port)

    def _write_config(self):
        lines = [
            '[DEFAULT]',
            'log_file = %s' % self.log_path,
            '[database]',
            'connection = sqlite:///%s' % os.path.join(self.workdir, 'keystone.sqlite'),
            '[token]',
            'provider = fernet',
            '[fernet_tokens]',
            'key_repository = %s' % os.path.join(self.workdir, 'fernet-keys'),
            '[fernet_receipts]',
            'key_repository = %s' % os.path.join(self.workdir, 'fernet-keys'),
            '[credential]',
            'key_repository = %s' % os.path.join(self.workdir, 'credential-keys'),
            '[identity]',
            # bcrypt's cheapest cost: every token request checks a password
            'password_hash_rounds = 4',
        ]
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _manage(self, *args):
        started = time.monotonic()
        command = [os.path.join(VENV, 'bin', 'keystone-manage'), '--config-file', self.config]
        result = subprocess.run(command + list(args), cwd=self.workdir, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=180)
        self.timings[args[0]] = time.monotonic() - started
        if result.returncode != 0:
            raise KeystoneError('keystone-manage %s exited %d:\n%s%s' % (
                args[0], result.returncode, result.stdout[-2000:], result.stderr[-2000:]))

    def setup(self):
        """Create the database, the keys and the admin (the port is chosen here)."""
        reason = missing()
        if reason:
            raise KeystoneError(reason)
        self.port = free_port(self.host)
        self._write_config()
        for repository in ('fernet-keys', 'credential-keys'):
            os.makedirs(os.path.join(self.workdir, repository), exist_ok=True)
        owner = ['--keystone-user', str(os.getuid()), '--keystone-group', str(os.getgid())]
        self._manage('db_sync')
        self._manage('fernet_setup', *owner)
        self._manage('credential_setup', *owner)
        self._manage('bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                     '--bootstrap-username', 'admin',
                     '--bootstrap-project-name', 'admin',
                     '--bootstrap-role-name', 'admin',
                     '--bootstrap-region-id', REGION,
                     '--bootstrap-public-url', self.url,
                     '--bootstrap-internal-url', self.url)

    def start(self, timeout=60.0):
        """Serve Keystone with gunicorn and wait until ``GET /v3`` answers."""
        atexit.register(self.stop)
        with open(os.path.join(self.workdir, 'keystone_wsgi.py'), 'w') as f:
            f.write(WSGI_SHIM)
        env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.config)
        env.pop('PYTHONPATH', None)
        started = time.monotonic()
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [os.path.join(VENV, 'bin', 'gunicorn'), '--bind', '%s:%d' % (self.host, self.port),
                 '--workers', '1', '--threads', '4', '--worker-class', 'gthread',
                 '--timeout', '120', '--graceful-timeout', '5', '--no-control-socket',
                 '--chdir', self.workdir, 'keystone_wsgi:application'],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.is_serving():
                self.timings['start'] = time.monotonic() - started
                return self.url
            time.sleep(0.1)
        self.stop()
        raise KeystoneError('Keystone did not answer GET %s within %.0f s; log %s ends:\n%s'
                            % (self.url, timeout, self.log_path, self.log_tail()))

    def is_serving(self):
        """Whether ``GET /v3`` answers 200."""
        try:
            return requests.get(self.url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, timeout=10.0):
        """Stop gunicorn (SIGTERM, then SIGKILL); safe to call twice."""
        process, self.process = self.process, None
        stop_process(process, timeout)

    def log_tail(self, lines=30):
        """The last lines of Keystone's log."""
        return file_tail(self.log_path, lines)


@dataclasses.dataclass
class User:
    """A user's password credentials, scoped to one project of the Default domain."""

    name: str
    password: str
    project_name: str
    id: str = None
    project_id: str = None

    def auth(self, auth_url):
        """keystoneauth v3 password plugin arguments for this user."""
        return {'auth_url': auth_url, 'username': self.name, 'password': self.password,
                'project_name': self.project_name, 'user_domain_id': 'default',
                'project_domain_id': 'default'}


class Keystone:
    """What the ``keystone`` fixture yields: URLs, users, projects and token helpers.

    users: ``admin`` (role admin in the admin project), ``member_a``, ``member_b`` (member
    and reader of project-a, project-b), ``reader_a`` (reader of project-a only), ``heat``
    (service in service: the API's own account for validating tokens).
    """

    def __init__(self, server, api_port):
        self.server = server
        self.url = server.url
        self.api_port = api_port
        self.users = {}
        self.projects = {}
        self.timings = dict(server.timings)

    @property
    def orchestration_url(self):
        """The catalog's orchestration endpoint template."""
        return 'http://127.0.0.1:%d/v1/%%(project_id)s' % self.api_port

    def session(self, user):
        """A keystoneauth Session authenticated as one of the users (by name)."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        return session.Session(auth=v3.Password(**self.users[user].auth(self.url)))

    def token(self, user):
        """A fresh project-scoped token of one of the users (by name)."""
        return self.session(user).get_token()

    def authtoken_options(self):
        """``[keystone_authtoken]`` options for an API validating tokens as user heat."""
        heat = self.users['heat']
        return {
            'www_authenticate_uri': self.url,
            'auth_url': self.url,
            'auth_type': 'password',
            'username': heat.name,
            'password': heat.password,
            'project_name': heat.project_name,
            'user_domain_id': 'default',
            'project_domain_id': 'default',
            'region_name': REGION,
        }

    def clouds(self):
        """A clouds.yaml ``clouds`` mapping with one cloud per user (by name)."""
        return {name: {'auth': user.auth(self.url), 'region_name': REGION,
                       'identity_api_version': 3, 'interface': 'public'}
                for name, user in self.users.items()}

    def _populate(self):
        from keystoneclient.v3 import client
        started = time.monotonic()
        admin = User('admin', ADMIN_PASSWORD, 'admin')
        self.users['admin'] = admin
        ks = client.Client(session=self.session('admin'), interface='public')
        roles = {role.name: role for role in ks.roles.list()}
        for name in ('member', 'reader', 'admin', 'service'):
            if name not in roles:
                roles[name] = ks.roles.create(name)
        admin.id = ks.users.find(name='admin').id
        admin.project_id = ks.projects.find(name='admin').id
        self.projects['admin'] = admin.project_id
        for project, description in (('project-a', 'tenant A'), ('project-b', 'tenant B'),
                                     ('service', 'service users')):
            self.projects[project] = ks.projects.create(project, 'default',
                                                        description=description).id
        for name, project, role_names in (
                ('member_a', 'project-a', ('member', 'reader')),
                ('member_b', 'project-b', ('member', 'reader')),
                ('reader_a', 'project-a', ('reader',)),
                ('heat', 'service', ('service',))):
            user = ks.users.create(name, domain='default', password=PASSWORD,
                                   default_project=self.projects[project])
            for role in role_names:
                ks.roles.grant(roles[role], user=user, project=self.projects[project])
            self.users[name] = User(name, PASSWORD, project, user.id, self.projects[project])
        service = ks.services.create('heat', type='orchestration',
                                     description='heat-taskflow under test')
        ks.endpoints.create(service, self.orchestration_url, interface='public',
                            region=REGION)
        self.timings['populate'] = time.monotonic() - started


@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    """A real Keystone private to this test session (per pytest-xdist worker), populated."""
    reason = missing()
    if reason:
        pytest.skip('no Keystone: %s' % reason)
    server = KeystoneServer(tmp_path_factory.mktemp('keystone'))
    try:
        server.setup()
        server.start()
    except (KeystoneError, subprocess.TimeoutExpired, OSError) as err:
        server.stop()
        pytest.skip('Keystone will not start: %s' % err)
    try:
        identity = Keystone(server, free_port())
        identity._populate()
        sys.stderr.write('keystone fixture: %s\n' % ', '.join(
            '%s %.2f s' % item for item in identity.timings.items()))
        yield identity
    finally:
        server.stop()
