"""OS::Nova::KeyPair: a Nova SSH (or x509) key pair, through openstacksdk.

Heat's properties: name (required), public_key, save_private_key, type; attributes
public_key, private_key (the saved private key, else ''), show. Nothing is updated in place:
any change replaces the key pair (Heat deletes the old one first; here the new one is made
first, so keep the name when the replacement must not collide: Nova refuses a second key
pair of one name with 409).

The token is the key pair's name (unique per user): it is recorded before the create and a
re-run looks the key pair up by it, adopting it (even one this stack did not make, should a
key pair of that name appear between the crash and the re-run: Nova offers nothing better).

Unlike Heat, an SSH key pair without a public_key is generated here, not by Nova, and
recorded before the create call: a re-run after a lost answer still knows the private key
(Nova shows it only in that answer), and clouds past microversion 2.92, where Nova no longer
generates keys, work too. The private key is recorded only when save_private_key is true.
An x509 key pair without a public key is left to Nova to generate, as in Heat.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openstack import exceptions as sdk_exc

from heat_taskflow.resources import attributes
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

GENERATED_KEY = 'generated_key'


def generate_ssh_key():
    """``{public_key, private_key}``: a new 2048-bit RSA key in Nova's formats."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode('ascii')
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode('ascii')
    return {'public_key': public, 'private_key': private}


class KeyPair(common.CloudResource):
    """A resource for creating Nova key pairs."""

    type_name = 'OS::Nova::KeyPair'
    kind = 'key pair'

    properties_schema = {
        'name': Schema(Schema.STRING, 'The name of the key pair.', required=True,
                       constraints=[constr.Length(min=1, max=255)]),
        'save_private_key': Schema(Schema.BOOLEAN, 'True if the system should remember a '
                                   'generated private key; False otherwise.', default=False),
        'public_key': Schema(Schema.STRING, 'The optional public key. If not supplied, a new '
                             'key pair will be generated.'),
        'type': Schema(Schema.STRING, 'Keypair type.',
                       constraints=[constr.AllowedValues(['ssh', 'x509'])]),
    }

    attributes_schema = {
        'public_key': attributes.Schema('The public key.', attributes.Schema.STRING),
        'private_key': attributes.Schema('The private key if it has been saved.',
                                         attributes.Schema.STRING),
    }

    def intent_token(self):
        """The key pair's name is its token."""
        token = self.data_get(common.TOKEN_KEY)
        if token is not None:
            return token, False
        token = self.properties['name']
        self.data_set(common.TOKEN_KEY, token)
        return token, True

    def _generated(self):
        """The generated key, recorded (the private half only when it is to be saved)."""
        def make():
            key = generate_ssh_key()
            if not self.properties['save_private_key']:
                del key['private_key']
            return key
        return self.remember(GENERATED_KEY, make)

    def create_object(self, token):
        p = self.properties
        attrs = {'name': token}
        if p['public_key']:
            attrs['public_key'] = p['public_key']
        elif p['type'] != 'x509':
            attrs['public_key'] = self._generated()['public_key']
        if p['type']:
            attrs['type'] = p['type']
        keypair = self.conn.compute.create_keypair(**attrs)
        if p['save_private_key'] and keypair.private_key:
            self.data_set('private_key', keypair.private_key)
        return keypair

    def find_by_token(self, token):
        try:
            return self.conn.compute.get_keypair(token)
        except sdk_exc.NotFoundException:
            return None

    def get_object(self, physical_id):
        return self.conn.compute.get_keypair(physical_id)

    def delete_object(self, physical_id):
        self.conn.compute.delete_keypair(physical_id)

    def physical_id_of(self, obj):
        return obj.name

    def drift(self, obj):
        wanted = self.properties['public_key']
        if wanted and obj.public_key.strip() != wanted.strip():
            return ['public_key differs from the property']
        return []

    def resolve_attribute(self, name):
        if name == 'private_key':
            if not self.properties['save_private_key']:
                return ''
            return (self.data_get('private_key') or
                    (self.data_get(GENERATED_KEY) or {}).get('private_key') or '')
        if name == 'public_key':
            if self.properties['public_key']:
                return self.properties['public_key']
            keypair = self.current()
            return keypair.public_key if keypair is not None else None
        return None
