"""Files only their owner may read: the state directory and SQLite databases.

The engine's database holds every value a stack was given (a RandomString's password, a
hidden parameter unless encrypted), the simulated cloud's every password it was sent; both
live in a 0700 directory in 0600 files.
"""

import logging
import os
import stat

LOG = logging.getLogger(__name__)


def _group_or_world(mode):
    return stat.S_IMODE(mode) & (stat.S_IRWXG | stat.S_IRWXO)


def private_directory(directory):
    """Make directory (and its missing parents) 0700; warn when an existing one is open
    to other users (it is not ours to change: it may be shared on purpose)."""
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)      # makedirs' mode is filtered by the umask
        return
    mode = os.stat(directory).st_mode
    if _group_or_world(mode):
        LOG.warning('directory %s (holding the database) is open to other users (mode %o); '
                    'the database files are 0600, but consider: chmod 700 %s',
                    directory, stat.S_IMODE(mode), directory)


def private_sqlite_file(path):
    """Create a SQLite database file 0600 before SQLite opens it (SQLite gives its -wal,
    -shm and -journal files the database file's mode), in a 0700 directory; an existing
    database file of ours that other users can read is tightened to 0600."""
    path = os.path.abspath(path)
    private_directory(os.path.dirname(path))
    flags = os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:
        return      # SQLite reports it, with its own message, when it opens the file
    try:
        st = os.fstat(fd)
        if _group_or_world(st.st_mode) and st.st_uid == os.getuid():
            LOG.warning('database file %s was readable by other users (mode %o); '
                        'made it 0600', path, stat.S_IMODE(st.st_mode))
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ('-wal', '-shm', '-journal'):
        try:
            st = os.lstat(path + suffix)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and _group_or_world(st.st_mode) \
                and st.st_uid == os.getuid():
            os.chmod(path + suffix, 0o600)
