"""Encryption at rest of the values heat-taskflow stores ([DEFAULT]
encrypt_parameters_and_properties).

Scheme: Fernet (the cryptography library): AES-128-CBC with a random IV, authenticated by
HMAC-SHA256 over the version, timestamp, IV and ciphertext, keys of 32 random bytes in
URL-safe base64. Chosen over raw AES-GCM because it leaves nothing to get wrong here (no
nonce to manage, a versioned, self-describing token, a standard key format operators can
make with any Fernet tool) and because MultiFernet gives key rotation as it is meant to work:
the first key encrypts, every key listed decrypts, ``rotate()`` re-encrypts a token under
the first key. A tampered or truncated value fails authentication instead of decrypting
to garbage.

The key file ([DEFAULT] auth_encryption_key_file) holds one key per line (``#`` starts a
comment): the first encrypts, the others (older keys during a rotation) only decrypt.
``heat-taskflow-manage key generate`` writes one; ``key rotate`` and ``key retire`` change
it (cmd/manage.py).

A stored value is JSON text; an encrypted one is ``PREFIX`` followed by the Fernet token of
that JSON text. JSON text never starts with ``!``, so clear rows written before encryption
was turned on stay readable, and a reader tells the two apart without guessing.
"""

import os
import stat

from cryptography import fernet
from oslo_config import cfg

from heat_taskflow.persistence import exceptions

PREFIX = '!fernet:'


class EncryptionConfigError(exceptions.PersistenceError, cfg.Error):
    """Encryption is asked for but its key is missing, unreadable or malformed (a
    configuration error: the command line exits 2, a service refuses to start)."""

    def __init__(self, msg):
        exceptions.PersistenceError.__init__(self, msg)
        self.msg = msg

    def __str__(self):
        return self.msg


class DecryptionError(EncryptionConfigError):
    """A stored value cannot be decrypted with any configured key."""


def generate_key():
    """A new random Fernet key (text)."""
    return fernet.Fernet.generate_key().decode('ascii')


def read_key_file(path):
    """The keys listed in a key file, newest (the one that encrypts) first."""
    try:
        with open(path, encoding='ascii') as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise EncryptionConfigError('cannot read the encryption key file %s: %s'
                                    % (path, err.strerror or err)) from err
    except UnicodeDecodeError as err:
        raise EncryptionConfigError('encryption key file %s is not a key file (not ASCII)'
                                    % path) from err
    keys = [line.strip() for line in lines]
    keys = [k for k in keys if k and not k.startswith('#')]
    if not keys:
        raise EncryptionConfigError('encryption key file %s holds no key; make one with '
                                    '"heat-taskflow-manage key generate"' % path)
    for number, key in enumerate(keys, 1):
        try:
            fernet.Fernet(key)
        except (ValueError, TypeError) as err:
            raise EncryptionConfigError(
                'encryption key file %s: key %d is not a Fernet key (32 bytes in URL-safe '
                'base64, as "heat-taskflow-manage key generate" writes)' % (path, number)
            ) from err
    return keys


def write_key_file(path, keys, replace=False):
    """Write keys (newest first) to path, mode 0600, atomically; refuse to replace an
    existing file unless replace."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not replace and os.path.lexists(path):
        raise EncryptionConfigError('%s exists; not overwriting a key file (the values '
                                    'encrypted with its keys would become unreadable)' % path)
    text = ('# heat-taskflow encryption keys, newest (the one that encrypts) first.\n'
            + ''.join(k + '\n' for k in keys))
    tmp = '%s.tmp-%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0),
                 0o600)
    try:
        with os.fdopen(fd, 'w', encoding='ascii') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


class Cipher:
    """Encrypts and decrypts stored JSON text with a list of keys (the first encrypts).

    encrypt=False: values are written in clear but encrypted ones still read (encryption
    was turned off, and the key file kept for what was written meanwhile).
    """

    def __init__(self, keys, encrypt=True, source=None):
        if not keys:
            raise EncryptionConfigError('no encryption key given')
        self.keys = list(keys)
        self.encrypt_values = bool(encrypt)
        self.source = source or 'the configured key'
        self._primary = fernet.Fernet(self.keys[0])
        self._all = fernet.MultiFernet([fernet.Fernet(k) for k in self.keys])

    def encrypt(self, text):
        """PREFIX + the token of text (str)."""
        return PREFIX + self._primary.encrypt(text.encode('utf-8')).decode('ascii')

    def seal(self, text):
        """What to store for JSON text: encrypted when this cipher encrypts, else as is."""
        return self.encrypt(text) if self.encrypt_values else text

    def decrypt(self, stored):
        """The JSON text of a stored value (clear values are returned as they are)."""
        if not is_encrypted(stored):
            return stored
        try:
            return self._all.decrypt(stored[len(PREFIX):].encode('ascii')).decode('utf-8')
        except (fernet.InvalidToken, UnicodeError) as err:
            raise DecryptionError(
                'a value in the database was encrypted with a key not in %s (wrong key '
                'file, or a key retired before every row was re-encrypted with '
                '"heat-taskflow-manage key rotate")' % self.source) from err

    def is_current(self, stored):
        """Whether a stored value is encrypted with the first key."""
        if not is_encrypted(stored):
            return False
        try:
            self._primary.decrypt(stored[len(PREFIX):].encode('ascii'))
        except fernet.InvalidToken:
            return False
        return True

    def reencrypt(self, stored):
        """A stored value (clear or under any listed key) encrypted with the first key."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            token = self._all.rotate(stored[len(PREFIX):].encode('ascii'))
        except fernet.InvalidToken as err:
            raise DecryptionError('a value in the database was encrypted with a key not '
                                  'in %s' % self.source) from err
        return PREFIX + token.decode('ascii')


def is_encrypted(stored):
    """Whether a stored text value is one this module encrypted."""
    return isinstance(stored, str) and stored.startswith(PREFIX)


def _check_mode(path):
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return ('encryption key file %s is readable by other users (mode %o); make it '
                '0600: chmod 600 %s' % (path, stat.S_IMODE(mode), path))
    return None


def from_conf(conf):
    """The Cipher of [DEFAULT] encrypt_parameters_and_properties and
    auth_encryption_key_file, or None (no encryption and no key).

    Encryption on without a usable key is refused (EncryptionConfigError). With encryption
    off, a key file that is configured and present is still loaded, to read what was
    encrypted while it was on.
    """
    enabled = bool(getattr(conf, 'encrypt_parameters_and_properties', False))
    path = getattr(conf, 'auth_encryption_key_file', None)
    if not path:
        if enabled:
            raise EncryptionConfigError(
                '[DEFAULT] encrypt_parameters_and_properties is on but [DEFAULT] '
                'auth_encryption_key_file is not set; make a key with '
                '"heat-taskflow-manage key generate" and set the option to its path')
        return None
    path = os.path.abspath(os.path.expanduser(path))
    if not enabled and not os.path.exists(path):
        return None
    if enabled and not os.path.exists(path):
        raise EncryptionConfigError(
            '[DEFAULT] encrypt_parameters_and_properties is on but the key file %s does not '
            'exist; make it with "heat-taskflow-manage key generate"' % path)
    problem = _check_mode(path)
    if problem:
        raise EncryptionConfigError(problem)
    return Cipher(read_key_file(path), encrypt=enabled, source=path)
