"""The [api] auth_strategy option: who the API believes the caller is."""

from oslo_config import cfg

auth_opts = [
    cfg.StrOpt('auth_strategy',
               default='noauth',
               choices=[
                   ('noauth', 'No authentication, for a single user on one host: the '
                    'caller is a member and reader of the project named in the URL '
                    '(/v1/PROJECT/...), never an admin; identity headers sent by the '
                    'client are ignored. Bind the API to loopback in this mode.'),
                   ('keystone', 'Keystone tokens, validated by keystonemiddleware\'s '
                    'auth_token with the options of [keystone_authtoken]; the project '
                    'and roles are the token\'s.'),
               ],
               help='How the API authenticates its callers.'),
]


def register_opts(conf):
    """Register [api] auth_strategy on conf."""
    conf.register_opts(auth_opts, group='api')


def list_opts():
    """Options for oslo-config-generator, by group."""
    return [('api', auth_opts)]
