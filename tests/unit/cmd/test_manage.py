"""Tests for heat_taskflow.cmd.manage: heat-taskflow-manage db sync / db version."""

import io
import os
import sqlite3
import subprocess
import sys

import pytest
from cliff import commandmanager

from heat_taskflow.cmd import manage
from heat_taskflow.persistence import migrations, models


def run_manage(tmp_path, *args):
    env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(tmp_path / 'state'))
    return subprocess.run([sys.executable, '-m', 'heat_taskflow.cmd.manage', *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'heat-taskflow.conf'
    database = tmp_path / 'missing-dir' / 'heat.sqlite'
    path.write_text('[database]\nconnection = sqlite:///%s\n' % database)
    return path, database


def test_db_sync_then_db_version_in_a_subprocess(tmp_path, config_file):
    conf, database = config_file
    before = run_manage(tmp_path, '--config-file', str(conf), 'db', 'version')
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == 'None'

    synced = run_manage(tmp_path, '--config-file', str(conf), 'db', 'sync')
    assert synced.returncode == 0, synced.stderr
    assert migrations.head() in synced.stdout
    assert database.exists()
    with sqlite3.connect(database) as connection:
        names = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(models.Base.metadata.tables) | {'logbooks', migrations.VERSION_TABLE} <= names

    after = run_manage(tmp_path, '--config-file', str(conf), 'db', 'version')
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == migrations.head()


def test_config_dir_is_read(tmp_path, config_file):
    conf, database = config_file
    confdir = tmp_path / 'conf.d'
    confdir.mkdir()
    (confdir / 'db.conf').write_text(conf.read_text())
    result = manage.main(['--config-dir', str(confdir), 'db', 'sync'])
    assert result == 0
    assert database.exists()


def test_missing_config_file_is_a_usage_error(tmp_path):
    stderr = io.StringIO()
    app = manage.ManageApp(stdout=io.StringIO(), stderr=stderr)
    assert app.run(['--config-file', str(tmp_path / 'nope.conf'), 'db', 'version']) == 2
    assert 'nope.conf' in stderr.getvalue()


def test_unknown_command_is_a_usage_error(tmp_path, config_file):
    conf, _ = config_file
    app = manage.ManageApp(stdout=io.StringIO(), stderr=io.StringIO())
    assert app.run(['--config-file', str(conf), 'db', 'frobnicate']) == 2


def test_a_new_command_is_one_class_and_its_entry_point(tmp_path, config_file):
    conf, _ = config_file

    class DbTables(manage.ManageCommand):
        """List our tables."""

        def take_action(self, parsed_args):
            db = self.get_database()
            db.sync()
            with db.engine.connect() as connection:
                names = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE name = 'stack'").scalars()
                self.app.stdout.write(' '.join(names) + '\n')
            return 0

    # What the entry point `db_tables = module:DbTables` does, without installing it.
    commands = commandmanager.CommandManager(manage.COMMAND_NAMESPACE)
    commands.add_command('db tables', DbTables)
    stdout = io.StringIO()
    app = manage.ManageApp(command_manager=commands, stdout=stdout, stderr=io.StringIO())
    assert app.run(['--config-file', str(conf), 'db', 'tables']) == 0
    assert stdout.getvalue() == 'stack\n'


def test_the_commands_are_entry_points():
    names = {name for name, _ in commandmanager.CommandManager(manage.COMMAND_NAMESPACE)}
    assert {'db sync', 'db version', 'reset-stack-status', 'migrate-convergence'} <= names


def test_database_errors_exit_1_with_the_message(tmp_path):
    conf = tmp_path / 'bad.conf'
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / 'dir.sqlite').mkdir()
    conf.write_text('[database]\nconnection = sqlite:///%s\n' % (tmp_path / 'dir.sqlite'))
    stderr = io.StringIO()
    app = manage.ManageApp(stdout=io.StringIO(), stderr=stderr)
    assert app.run(['--config-file', str(conf), 'db', 'sync']) == 1
    assert 'heat-taskflow-manage:' in stderr.getvalue()
    stderr = io.StringIO()
    app = manage.ManageApp(stdout=io.StringIO(), stderr=stderr)
    assert app.run(['--config-file', str(conf), 'db', 'version']) == 1
    assert 'unable to open database file' in stderr.getvalue()
