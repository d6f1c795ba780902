"""What the Neutron plugins share: raw requests, the intent-token tag, Heat's field names,
and the implicit dependencies Heat gives Neutron resources (docs/cloud.md sections 4 and 6).

Creates and updates are sent as the plugins build them (``POST /v2.0/networks`` with
``{"network": BODY}``): openstacksdk's resource classes drop the fields they do not know,
and Heat's ``value_specs`` may carry any field an extension adds. The answer is read back
into the SDK resource class, so reads, lists and deletes are openstacksdk's own.

The intent token travels as a Neutron tag in the create body (``tags: [TOKEN]``) and is
found again with the ``tags`` filter (``GET /v2.0/KIND?tags=TOKEN``).
"""

from openstack import exceptions as sdk_exc

from heat_taskflow.resources.types.openstack import common

SUBNET = 'OS::Neutron::Subnet'
PORT = 'OS::Neutron::Port'
ROUTER = 'OS::Neutron::Router'
ROUTER_INTERFACE = 'OS::Neutron::RouterInterface'


def _send(conn, method, url, cls, body):
    resp = conn.network.request(url, method, json={cls.resource_key: body}, raise_exc=False)
    sdk_exc.raise_from_response(resp)
    return cls.existing(connection=conn, **resp.json()[cls.resource_key])


def create(conn, cls, body):
    """POST the body as given to the collection of the SDK resource class ``cls``."""
    return _send(conn, 'POST', cls.base_path, cls, body)


def update(conn, cls, obj_id, body):
    """PUT the body as given to the object ``obj_id`` of ``cls``."""
    return _send(conn, 'PUT', '%s/%s' % (cls.base_path, obj_id), cls, body)


def tagged(body, token, tags=None):
    """The create body with the user's ``tags`` and the intent token among its tags."""
    return dict(body, tags=list(tags or []) + [token])


def find_tagged(conn, cls, token):
    """The object of ``cls`` carrying the tag ``token``, or None."""
    found = list(cls.list(conn.network, tags=token))
    return found[0] if found else None


def user_tags(obj, token):
    """The tags of an object without the intent token (the ones the template asked for)."""
    return [t for t in common.field(obj, 'tags') or [] if t != token]


def heat_fields(obj):
    """An SDK resource as Neutron spells it (``admin_state_up``, ``subnets``, ``tenant_id``):
    the names of Heat's attributes and of its ``show``."""
    if obj is None:
        return None
    out = obj.to_dict(headers=False, computed=False, original_names=True)
    if 'project_id' in out:
        out.setdefault('tenant_id', out['project_id'])
    return out


class NeutronResource(common.CloudResource):
    """A Neutron object with an intent-token tag; ``sdk_class`` is its openstacksdk class."""

    sdk_class = None
    attribute_names = ()
    delete_is_final = True
    _fields_of = None     # (the observed object, its heat_fields): one to_dict per object

    def current_fields(self):
        """``heat_fields`` of ``self.current()``, made once per observed object (the
        attributes ask for it one name at a time, and to_dict is costly)."""
        obj = self.current()
        if self._fields_of is None or self._fields_of[0] is not obj:
            self._fields_of = (obj, heat_fields(obj))
        return self._fields_of[1]

    def find_by_token(self, token):
        return find_tagged(self.conn, self.sdk_class, token)

    def get_object(self, physical_id):
        return self.sdk_class.new(id=physical_id).fetch(self.conn.network)

    def delete_object(self, physical_id):
        self.sdk_class.new(id=physical_id).delete(self.conn.network)

    def create_tagged(self, body, token):
        """Create from ``body`` with the token among the tags."""
        return create(self.conn, self.sdk_class,
                      tagged(body, token, self.properties.get('tags')))

    def update_fields(self, body):
        """PUT the changed fields (nothing when there are none)."""
        if body:
            update(self.conn, self.sdk_class, self.physical_id, body)

    def update_tags(self, prop_diff, body):
        """The update body with the new tags and the intent token kept."""
        if 'tags' in prop_diff:
            token = self.data_get(common.TOKEN_KEY)
            body['tags'] = list(self.properties['tags'] or []) + ([token] if token else [])
        return body

    def show(self):
        fields = self.current_fields()
        return dict(fields) if fields is not None else None

    def resolve_attribute(self, name):
        if name not in self.attribute_names:
            return None
        fields = self.current_fields()
        if fields is None:
            return None
        if name == 'tags':
            return user_tags(self.current(), self.data_get(common.TOKEN_KEY))
        return fields.get(name)


# -- implicit dependencies (Heat's add_dependencies) -----------------------------------------

def _of_type(view, type_name):
    return [n for n in view.names() if view.type_of(n) == type_name]


def _prop(view, name, key):
    return (view.properties(name) or {}).get(key)


def subnets_on_network(view, network):
    """The Subnets of the stack on the network the snippet ``network`` names (Heat's
    Port.add_dependencies; also what a Server's ``networks`` entries need)."""
    if network is None:
        return []
    # network_id: the deprecated name of a Subnet's network property, still in old templates.
    return [n for n in _of_type(view, SUBNET)
            if view.same(_prop(view, n, 'network') or _prop(view, n, 'network_id'), network)]


def named_resources(view, snippet, type_name):
    """The resources of ``type_name`` the snippet names (a reference, or a literal equal to
    their ``name`` property)."""
    if snippet is None:
        return []
    return [n for n in _of_type(view, type_name) if view.same(snippet, {'get_resource': n})]


def subnets_of_port(view, port):
    """The Subnets of the stack the Port resource ``port`` takes addresses from: those its
    fixed_ips name, else every Subnet on its network."""
    fixed = [f.get('subnet') for f in _prop(view, port, 'fixed_ips') or []
             if isinstance(f, dict) and f.get('subnet') is not None]
    if fixed:
        return [s for snippet in fixed for s in named_resources(view, snippet, SUBNET)]
    return subnets_on_network(view, _prop(view, port, 'network'))


def interfaces_for_port(view, port_snippet):
    """The RouterInterfaces of the stack on a subnet the port named by ``port_snippet`` uses
    (a floating IP on that port is reachable only once they exist)."""
    subnets = {s for p in named_resources(view, port_snippet, PORT)
               for s in subnets_of_port(view, p)}
    return [i for i in _of_type(view, ROUTER_INTERFACE)
            if any(view.same(_prop(view, i, 'subnet'), {'get_resource': s}) for s in subnets)]


def routers_with_gateway(view, network):
    """The Routers of the stack whose external gateway is the network ``network`` names."""
    out = []
    for router in _of_type(view, ROUTER):
        info = _prop(view, router, 'external_gateway_info')
        if isinstance(info, dict) and view.same(info.get('network'), network):
            out.append(router)
    return out
