"""Stack operations and the one lifecycle of a traversal, shared by both paths.

An operation validates everything it was given before it stores anything, then claims the
stack by swapping in a new traversal id (``claim``: a compare-and-swap on the stack row, so
two operations can never both start), compiles the traversal's graph, builds its runtime
(``traversal_runtime``) and hands both to the stack's runner (engine/runner.py). Every
traversal, on either path, started here or resumed (engine/resume.py) or finished on a
conductor (engine/distributed.py), ends through ``complete`` or ``fail``: a failed create or
update goes straight from IN_PROGRESS to its rollback's IN_PROGRESS unless rollback is
disabled. What a rollback undoes (``rollback_action``) and whether a cancel asked for it
(``rollback_cancelled``) are stack columns; ``status_reason`` is display text only.

Definitions of stored raw templates (``stack_definition``) are parsed once per process
and kept by raw template id: a stored template was validated when it was submitted.
"""

import collections
import logging
import os
import socket
import sys
import threading
import time
import uuid

from heat_taskflow.common import states
from heat_taskflow.common.text import shown
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.flows import actions, sync_points
from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.flows import runtime as rt
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as db_database
from heat_taskflow.persistence import exceptions as db_exc
from heat_taskflow.resources import exceptions as res_exc
from heat_taskflow.resources import registry
from heat_taskflow.template import (
    Environment,
    StackDefinition,
    StackIdentity,
    Template,
    TemplateError,
    parser,
    redaction,
)
from heat_taskflow.template.limits import Limits

LOG = logging.getLogger(__name__)

DEFAULT_PROJECT = 'default'


def new_engine_id():
    """An id naming this process as the holder of stacks and resource locks:
    ``host:pid:start:random``, where start is the process's start time (clock ticks
    after boot, '-' where unknown), so that a holder on this host whose process is gone,
    or whose pid another process now has, is known dead at once (engine/resume.py)."""
    pid = os.getpid()
    start = resume_mod.process_start_time(pid)
    return '%s:%d:%s:%s' % (socket.gethostname(), pid, '-' if start is None else start,
                            uuid.uuid4().hex[:8])


class Source:
    """What a user submits for a stack: template text, files map, environments, parameters."""

    def __init__(self, text, filename, files=None, environments=None, parameters=None):
        self.text = text
        self.filename = filename or 'template.yaml'
        self.files = dict(files or {})
        self.environments = [tuple(e) for e in (environments or [])]
        self.parameters = dict(parameters or {})

    @classmethod
    def from_raw(cls, raw):
        """The Source stored in a raw template row."""
        env = raw.environment or {}
        return cls(raw.template['text'], raw.template.get('filename'), raw.files,
                   env.get('files', []), env.get('parameters', {}))

    def raw_values(self, description=None, encrypted_param_names=None):
        """Column values of the raw template row that stores this source.

        encrypted_param_names: the hidden parameters whose values the row stores encrypted
        (recorded in the environment, as Heat does; the whole column is encrypted).
        """
        environment = {'files': [list(e) for e in self.environments],
                       'parameters': self.parameters}
        if encrypted_param_names:
            environment['encrypted_param_names'] = sorted(encrypted_param_names)
        return dict(template={'text': self.text, 'filename': self.filename,
                              'description': description},
                    files=self.files, environment=environment)


class StackEngine:
    """Creates, updates, deletes, rolls back and checks stacks on their recorded path."""

    # Definitions of stored raw templates kept at most (least recently used dropped
    # first): a conductor runs for weeks.
    MAX_DEFINITIONS = 256

    def __init__(self, conf, database, runners, nested_factory=None):
        self.conf = conf
        self.database = database
        self.runners = runners                  # {'legacy': Runner, 'distributed': Runner}
        self.engine_id = new_engine_id()
        self.nested_factory = nested_factory    # callable(engine, stack) -> NestedStackService
        self._definitions = collections.OrderedDict()   # raw template id -> (owner, defn)
        self._definitions_lock = threading.Lock()
        self._checked_files = set()     # (key, length, hash) of files-map templates checked

    def _encrypted_param_names(self, defn):
        """The hidden parameters of defn, when stored values are encrypted."""
        cipher = getattr(self.database, 'cipher', None)
        if cipher is None or not cipher.encrypt_values:
            return None
        return defn.parameter_values.hidden_names()

    # -- building and validating ------------------------------------------------------

    def definition(self, source, name, stack_id, project_id=DEFAULT_PROJECT, facade=None,
                   nested=False):
        """Parse and validate a source into a StackDefinition; raise on any bad input.

        ``max_template_size`` limits what a user submits. A child stack's template is one
        the engine wrote (a resource group's grows with its count, each member carrying its
        resource definition), so ``nested`` ones are not held to it (nor are they in Heat,
        which builds a group's template in memory); the other budgets (depth, nodes,
        expanded text) still apply. The files map is always the user's: its templates are
        held to ``max_template_size`` and the whole map to ``max_files_size``.
        """
        limits = self.limits()
        defn = self._parse(source, StackIdentity(name, stack_id, project_id), facade,
                           self._text_limits(nested))
        self._check_files(defn, limits)
        defn.validate()
        limit = self.conf.max_resources_per_stack
        if limit >= 0 and len(defn.resources) > limit:
            raise exc.InvalidInput('template has %d resources; the limit per stack is %d '
                                   '([DEFAULT] max_resources_per_stack)'
                                   % (len(defn.resources), limit))
        self._validate_resources(defn)
        return defn

    def limits(self):
        """The budgets of every input (template.limits.Limits), from the [DEFAULT] options."""
        return Limits.from_conf(self.conf)

    def _text_limits(self, unbounded_size):
        limits = self.limits()
        return limits.replace(max_template_size=sys.maxsize) if unbounded_size else limits

    def _check_files(self, defn, limits):
        """Hold the files map to ``max_files_size`` and each template in it (a resource
        type or registry entry naming it, anywhere in the template or environment) to
        ``max_template_size`` and the parser's budgets, before any plugin reads it.

        A template file found is read for the template files it names in turn.
        """
        files = defn.files
        total = 0
        for key, value in files.items():
            if not isinstance(value, str):
                raise exc.InvalidInput('files map entry "%s" is not text' % shown(key))
            total += len(value.encode('utf-8', 'surrogatepass'))
        if total > limits.max_files_size:
            raise exc.InvalidInput('the files map (get_file targets and child templates) is '
                                   '%d bytes, more than the limit of %d bytes ([DEFAULT] '
                                   'max_files_size)' % (total, limits.max_files_size))
        if not files:
            return
        pending = [v for v in _type_names(defn.template.raw) if v in files]
        pending += [v for v in _strings(defn.environment.registry_as_dict()) if v in files]
        checked = set()
        while pending:
            key = pending.pop()
            if key in checked:
                continue
            checked.add(key)
            # each member of a group checks the same files again: remember what passed
            seen = (key, len(files[key]), hash(files[key]))
            if seen in self._checked_files:
                continue
            data, _lines = parser.load(files[key], key, limits)
            if not isinstance(data, dict) or 'heat_template_version' not in data:
                raise TemplateError('this file is named as a resource type, so it must be '
                                    'a template (a YAML or JSON map with '
                                    'heat_template_version), but it is not', filename=key)
            pending.extend(v for v in _type_names(data) if v in files)
            if len(self._checked_files) > 4096:
                self._checked_files.clear()
            self._checked_files.add(seen)

    def _validate_resources(self, defn, checked=None, depth=0):
        """Check every resource's type and properties against its plugin; errors are
        TemplateErrors located at the resource's type or property (file, line, path).

        A template resource's child template and a resource group's member definition are
        checked too, as Heat does at validation: each child template file once per
        submission (``checked``: the files done), a group's definition once whatever its
        count. A group's known count counts against ``max_resources_per_stack``.
        """
        checked = set() if checked is None else checked
        limit = self.conf.max_resources_per_stack
        total = len(defn.resources)
        for name in defn.resources:
            rtype = defn.resource_type(name)
            path = ('resources', name)
            try:
                cls = actions.plugin_class(
                    rtype.type_name, rtype.template_file, defn.files,
                    test_types=self.conf.enable_test_resource_types, limits=defn.limits)
            except (res_exc.ResourceTypeNotFound, ValueError) as err:
                # ValueError: a template file that is not a template (template_resource)
                raise defn.template.locate(TemplateError(str(err), path + ('type',))) from err
            try:
                properties = defn.resolve_properties(name, {})
                resource = cls(name, properties, None)
                resource.limits = defn.limits
                resource.validate(partial=True)
            except TemplateError as err:
                raise defn.redact.exception(err)
            # the plugin's message may quote a hidden value: masked, and not chained
            except res_exc.InvalidProperties as err:
                located = TemplateError(defn.redact(err.message),
                                        path + ('properties',) + err.path)
                raise defn.template.locate(located) from None
            except res_exc.ResourceError as err:
                located = TemplateError(defn.redact(err.message), path)
                raise defn.template.locate(located) from None
            # after the plugin's own checks: an unknown property is reported first, as
            # Heat reports it
            missing = _missing_required(cls, defn.template.resources[name].properties)
            if missing:
                raise defn.template.locate(TemplateError(
                    'property "%s" is required' % missing, path + ('properties',)))
            count = resource.known_count() if hasattr(resource, 'known_count') else None
            if count is not None and limit >= 0:
                total += count
                if total > limit:
                    raise defn.template.locate(TemplateError(
                        'resource group "%s": count %d makes the stack %d resources with '
                        'its members, more than the limit of %d ([DEFAULT] '
                        'max_resources_per_stack)' % (name, count, total, limit),
                        path + ('properties', 'count')))
            if depth >= self.conf.max_nested_stack_depth:
                continue    # deeper children are refused when they are created
            if rtype.template_file and getattr(cls, 'template', None) is not None:
                self._validate_child_template(defn, cls, properties, checked, depth)
            elif hasattr(resource, 'member_definition'):
                self._validate_member_definition(defn, name, properties, checked, depth)

    def _child_definition(self, defn, text, filename, parameters):
        """The definition of a child template (the user's text, or one built from a group's
        resource_def) as its parent's resources would create it: no environment, the
        parent's files map and budgets."""
        tpl = Template.parse(text, filename=filename, limits=defn.limits)
        return StackDefinition(tpl, Environment(), params=parameters, files=defn.files,
                               identity=defn.identity, implicit=registry.implicit_dependencies,
                               limits=defn.limits)

    def _validate_child(self, child, checked, depth):
        """Validate a child definition; parameters it needs that are not known yet (given
        by a function only resolved at create) leave its values unchecked, not its shape."""
        given = child.user_params
        for pname, schema in child.template.parameter_schemas.items():
            if given.get(pname) is None and schema.default is None:
                return
        child.validate()
        self._validate_resources(child, checked, depth + 1)

    def _validate_child_template(self, defn, cls, properties, checked, depth):
        key = cls.template_file
        if key in checked:
            return
        checked.add(key)
        params = {k: v for k, v in (properties or {}).items()
                  if v is not None and k in (cls.properties_schema or {})}
        try:
            child = self._child_definition(defn, defn.files[key], key, params)
            self._validate_child(child, checked, depth)
        except TemplateError as err:
            raise defn.redact.exception(err) from None

    def _validate_member_definition(self, defn, name, properties, checked, depth):
        """A group's resource_def, validated once as the one member of a child template;
        errors are located at the group's resource_def in the parent."""
        res_def = (properties or {}).get('resource_def')
        if not isinstance(res_def, dict) or not isinstance(res_def.get('type'), str):
            return      # unknown until create (a function), or refused by the schema
        member = {'type': res_def['type']}
        for key in ('properties', 'metadata'):
            if isinstance(res_def.get(key), dict):
                # a None value (resolved only at create) stays written: given, not checked
                member[key] = dict(res_def[key])
        index_var = (properties or {}).get('index_var') or '%index%'
        member = _replace_strings(member, index_var, '0')
        text = parser.dump_data({'heat_template_version': '2016-10-14',
                                 'resources': {'0': member}}, sort_keys=False)
        path = ('resources', name, 'properties', 'resource_def')
        filename = '%s member' % name
        try:
            child = self._child_definition(defn, text, filename, {})
            self._validate_child(child, checked, depth)
        except TemplateError as err:
            if err.filename != filename:    # in a child template file: located there
                raise defn.redact.exception(err) from None
            where = err.path[2:] if err.path[:2] == ('resources', '0') else ()
            sub = ('properties',) + tuple(where[1:]) if where[:1] == ('properties',) else ()
            located = TemplateError('member definition: %s' % getattr(err, 'message', err),
                                    path + (sub or tuple(where[:1])))
            raise defn.redact.exception(defn.template.locate(located)) from None

    def _parse(self, source, identity, facade, limits):
        """The StackDefinition of a source, parsed but not validated: the one way a
        template becomes a definition. ``limits`` bounds the template and environments."""
        tpl = Template.parse(source.text, filename=source.filename, limits=limits)
        env = Environment.load(source.environments, limits)
        return StackDefinition(tpl, env, params=source.parameters, files=source.files,
                               identity=identity, facade=facade,
                               implicit=registry.implicit_dependencies,
                               limits=limits)

    def stack_definition(self, stack, template_id):
        """The definition a stored stack has with one of its stored raw templates.

        Parsed once per process and kept by raw template id (a raw template row never
        changes): it was validated when it was submitted, so loading it for a traversal
        needs parsing only. A nested stack's entry is rebuilt when its parent resource's
        facade (metadata, policies) changed since.
        """
        facade = self._facade(stack)
        owner = (stack.id, facade)
        with self._definitions_lock:
            entry = self._definitions.get(template_id)
            if entry is not None and entry[0] == owner:
                self._definitions.move_to_end(template_id)
                return entry[1]
        raw = db.raw_template_get(self.database, template_id)
        if raw is None:
            raise exc.InvalidInput('stack "%s": its raw template %s does not exist'
                                   % (stack.name, template_id))
        defn = self._parse(Source.from_raw(raw),
                           StackIdentity(stack.name, stack.id, stack.project_id), facade,
                           self._text_limits(True))
        defn.dependencies()     # computed once, before threads share the definition
        with self._definitions_lock:
            self._definitions[template_id] = (owner, defn)
            self._definitions.move_to_end(template_id)
            while len(self._definitions) > self.MAX_DEFINITIONS:
                self._definitions.popitem(last=False)
        return defn

    def _facade(self, stack):
        if not stack.owner_id or not stack.parent_resource_name:
            return None
        parent = db.resource_get_by_name(self.database, stack.owner_id,
                                         stack.parent_resource_name)
        snippet = (parent.template or {}) if parent is not None else {}
        return {'metadata': snippet.get('metadata') or {},
                'deletion_policy': snippet.get('deletion_policy') or 'Delete',
                'update_policy': snippet.get('update_policy') or {}}

    # -- operations -------------------------------------------------------------------

    def create(self, name, source, timeout_mins=None, disable_rollback=False, on_event=None,
               owner=None, parent_resource_name=None, project_id=DEFAULT_PROJECT,
               auto_converge=False):
        """Validate, store and run a new stack; return its final (or posted) row.

        ``auto_converge``: the conductors' observer repairs drift it finds on the stack by
        itself (distributed path; conductors/observer.py).
        """
        if db.stack_get_by_name(self.database, name, project_id) is not None:
            raise exc.StackExists(name)
        depth = (owner.nested_depth or 0) + 1 if owner is not None else 0
        if depth > self.conf.max_nested_stack_depth:
            raise exc.InvalidInput('stack "%s": nesting depth %d exceeds the limit of %d '
                                   '([DEFAULT] max_nested_stack_depth)'
                                   % (name, depth, self.conf.max_nested_stack_depth))
        stack_id = str(uuid.uuid4())
        facade = None
        if owner is not None and parent_resource_name:
            facade = self._facade(_Owned(owner.id, parent_resource_name))
        defn = self.definition(source, name, stack_id, project_id, facade=facade,
                               nested=owner is not None)
        raw = db.raw_template_create(self.database, **source.raw_values(
            defn.template.description, self._encrypted_param_names(defn)))
        convergence = owner.convergence if owner is not None else \
            bool(self.conf.convergence_engine)
        try:
            stack = db.stack_create(
                self.database, event=True, id=stack_id, name=name, project_id=project_id,
                action=states.CREATE, status=states.IN_PROGRESS,
                status_reason='Stack CREATE started',
                convergence=convergence, current_traversal=str(uuid.uuid4()),
                raw_template_id=raw.id, parameters=defn.masked_parameters(),
                timeout=timeout_mins or self.conf.default_timeout,
                disable_rollback=bool(disable_rollback), auto_converge=bool(auto_converge),
                owner_id=owner.id if owner is not None else None,
                parent_resource_name=parent_resource_name, nested_depth=depth,
                root_stack_id=(owner.root_stack_id or owner.id) if owner is not None else None)
        except db_exc.StackExists as err:
            db.raw_template_delete(self.database, raw.id)
            raise exc.StackExists(name) from err
        return self.run(stack, states.CREATE, defn, on_event)

    def update(self, stack, source, timeout_mins=None, disable_rollback=None, on_event=None,
               converge=False, auto_converge=None):
        """Validate a new source for a stack and converge the stack to it.

        With converge, every current resource's plugin first checks the real resource:
        those that drifted (or vanished) are marked CHECK_FAILED, and the update replaces
        them along with any already marked unhealthy. ``auto_converge`` (None: unchanged)
        sets whether the observer repairs drift on the stack by itself.
        """
        if not self._redirectable(stack, converge):
            self._refuse_if_busy(stack)
        defn = self.definition(source, stack.name, stack.id, stack.project_id,
                               facade=self._facade(stack), nested=bool(stack.owner_id))
        raw = db.raw_template_create(self.database, **source.raw_values(
            defn.template.description, self._encrypted_param_names(defn)))
        values = dict(action=states.UPDATE, status=states.IN_PROGRESS,
                      status_reason='Stack UPDATE started', raw_template_id=raw.id,
                      prev_raw_template_id=_previous_template(stack),
                      parameters=defn.masked_parameters())
        if timeout_mins:
            values['timeout'] = timeout_mins
        if disable_rollback is not None:
            values['disable_rollback'] = bool(disable_rollback)
        if auto_converge is not None:
            values['auto_converge'] = bool(auto_converge)
        name = stack.name
        claimed = self.claim(stack, values)
        for _ in range(REDIRECT_RETRIES):
            if claimed is not None or not stack.convergence:
                break
            # Another operation claimed the stack between our read and our swap (a storm
            # of updates): read it again and redirect that one; the last to claim wins.
            stack = db.stack_get(self.database, stack.id)
            try:
                if stack is None or (stack.status == states.IN_PROGRESS
                                     and not self._redirectable(stack, converge)):
                    break
            except exc.ActionInProgress:
                break       # now a delete, or --converge: refused below
            values['prev_raw_template_id'] = _previous_template(stack)
            claimed = self.claim(stack, values)
        if claimed is None:
            db.raw_template_delete(self.database, raw.id)
            raise exc.ActionInProgress(name, states.UPDATE,
                                       hint='another operation started meanwhile')
        if stack.status == states.IN_PROGRESS:
            LOG.info('stack %s: update redirects the %s in progress (traversal %s -> %s)',
                     name, stack.action, stack.current_traversal,
                     claimed.current_traversal)
        stack = claimed
        if converge:
            try:
                self.mark_drifted(stack, defn, on_event)
            except Exception as err:  # noqa: BLE001 - any failure fails the stack
                return self._ended(self.fail(stack.id, stack.current_traversal, states.UPDATE,
                                             err, on_event), stack)
        return self.run(stack, states.UPDATE, defn, on_event)

    def mark_drifted(self, stack, defn, on_event=None):
        """Check each current resource the definition keeps and mark the drifted ones
        CHECK_FAILED (in this process, before a converging traversal starts, so both paths
        see the marks); returns {name: reason}."""
        names = [r.name for r in db.resource_list(self.database, stack.id, current_only=True)
                 if r.name in defn.resources]
        runtime = self.traversal_runtime(stack, states.CHECK, defn,
                                         self.deadline(stack, states.CHECK),
                                         on_event=on_event, progress_total=len(names))
        drifted = {}
        for name in names:
            reason = actions.mark_if_drifted(runtime, name)
            if reason is not None:
                drifted[name] = reason
        if drifted:
            LOG.info('stack %s: converge replaces %s', stack.name, ', '.join(sorted(drifted)))
        return drifted

    def delete(self, stack, on_event=None):
        """Delete every resource of a stack, in reverse dependency order, then the stack."""
        self._refuse_if_busy(stack)
        claimed = self.claim(stack, dict(action=states.DELETE, status=states.IN_PROGRESS,
                                         status_reason='Stack DELETE started'))
        if claimed is None:             # another operation claimed it since it was read
            raise exc.ActionInProgress(stack.name, states.DELETE)
        return self.run(claimed, states.DELETE, None, on_event)

    def check(self, stack, on_event=None):
        """Ask every resource's plugin to check the real resource."""
        self._refuse_if_busy(stack)
        defn = self.stack_definition(stack, stack.raw_template_id)
        claimed = self.claim(stack, dict(action=states.CHECK, status=states.IN_PROGRESS,
                                         status_reason='Stack CHECK started'))
        if claimed is None:             # another operation claimed it since it was read
            raise exc.ActionInProgress(stack.name, states.CHECK)
        return self.run(claimed, states.CHECK, defn, on_event)

    def resume(self, stack, on_event=None):
        """Resume the stack's interrupted operation (engine/resume.py); returns (stack row,
        node keys re-posted on the distributed path or None on the legacy path)."""
        return resume_mod.resume(self, stack, on_event)

    def cancel(self, stack, rollback=True, on_event=None):
        """Cancel the stack's operation in progress.

        The stack's traversal is swapped away (compare-and-swap on the traversal id while
        the stack is IN_PROGRESS): resource actions already running finish, nothing new
        starts. Without rollback the stack is FAILED at once ("Update cancelled"). With
        rollback (a create or update only) the rollback traversal is claimed as after a
        failure - to the previous template, or to nothing after a create - whatever the
        stack's disable_rollback says; on the distributed path it starts at once (its
        nodes wait for the old running actions), on the legacy path the process running
        the cancelled traversal runs it once its running actions have ended. A rollback,
        delete or check in progress can only be cancelled without rollback.
        """
        if stack.status != states.IN_PROGRESS:
            raise exc.InvalidInput('stack "%s" is %s_%s: there is no operation in progress '
                                   'to cancel' % (stack.name, stack.action, stack.status))
        action = stack.action
        reason = cancel_reason(action)
        defn = None
        if rollback:
            if action not in (states.CREATE, states.UPDATE):
                raise exc.InvalidInput(
                    'stack "%s": a %s in progress cannot be rolled back; '
                    '"heat-taskflow stack cancel --no-rollback %s" stops it'
                    % (stack.name, action, stack.name))
            values, defn = self._rollback_values(stack, action, reason, cancelled=True)
        else:
            values = dict(status=states.FAILED, status_reason=reason)
        claimed = self.claim(stack, values, expected_status=states.IN_PROGRESS)
        if claimed is None:
            now = db.stack_get(self.database, stack.id)
            raise exc.InvalidInput('stack "%s": its %s ended or changed meanwhile (now '
                                   '%s_%s); nothing was cancelled'
                                   % (stack.name, action, now.action, now.status))
        LOG.info('stack %s (%s): %s traversal %s cancelled%s', stack.name, stack.id, action,
                 stack.current_traversal, ', rolling back' if rollback else '')
        if rollback and claimed.convergence:
            return self.run(claimed, states.ROLLBACK, defn, on_event)
        return claimed

    def _redirectable(self, stack, converge=False):
        """True when an update redirects the stack's operation in progress (the
        distributed path) instead of being refused (the legacy path: see cancel)."""
        if stack.status != states.IN_PROGRESS or not stack.convergence:
            return False
        if stack.action == states.DELETE:
            raise exc.ActionInProgress(stack.name, stack.action,
                                       hint='a stack being deleted cannot be updated')
        if converge:
            raise exc.ActionInProgress(
                stack.name, stack.action,
                hint='update --converge does not redirect an operation in progress; wait '
                     'for it, or run "heat-taskflow stack cancel %s"' % stack.name)
        return True

    def _refuse_if_busy(self, stack):
        if stack.status == states.IN_PROGRESS:
            raise exc.ActionInProgress(
                stack.name, stack.action,
                hint='wait for it to finish, or run "heat-taskflow stack cancel %s"'
                     % stack.name)

    # -- the lifecycle of a traversal -------------------------------------------------

    def claim(self, stack, values, expected_status=None):
        """Swap a new traversal id and values into the stack row; the claimed row, or None
        if another operation got there first (or, with expected_status, if the stack no
        longer has that status). A claim for another action than a rollback clears what
        the row said of the last rollback."""
        values = dict(values, current_traversal=str(uuid.uuid4()))
        if values.get('action', states.ROLLBACK) != states.ROLLBACK:
            values.setdefault('rollback_action', None)
            values.setdefault('rollback_cancelled', False)
        if not db.stack_update(self.database, stack.id, values,
                               expected_traversal=stack.current_traversal,
                               expected_status=expected_status,
                               event=state_event(stack, values)):
            return None
        return db.stack_get(self.database, stack.id)

    def runner(self, stack):
        """The Runner of the stack's path (engine/runner.py)."""
        path = 'distributed' if stack.convergence else 'legacy'
        runner = self.runners.get(path)
        if runner is None:
            raise exc.InvalidInput('stack "%s" is on the %s path, which this process cannot '
                                   'run' % (stack.name, path))
        return runner

    def compile_graph(self, stack, action, defn):
        """The graph of a traversal of the stack to defn (None: to nothing), compiled from
        the stack's stored resource rows as they are now."""
        rows = db.resource_list(self.database, stack.id)
        if action == states.CHECK:
            current = {r.name: r for r in rows if r.replaced_by is None}
            by_id = {r.id: r.name for r in rows}
            deps = {name: [by_id[i] for i in (r.requires or []) if by_id.get(i) in current]
                    for name, r in current.items()}
            return graph_mod.compile_check(deps)
        stored = [graph_mod.StoredResource(r.id, r.name, tuple(r.requires or ()),
                                           r.replaced_by is None) for r in rows]
        return graph_mod.compile_converge(defn.dependencies() if defn is not None else {},
                                          stored)

    def traversal_runtime(self, stack, action, defn, deadline, on_event=None,
                          progress_total=None, traversal_id=None):
        """The OperationRuntime of a traversal of the stack (its current one unless
        traversal_id says otherwise): what its resource actions use. defn None converges
        to nothing (the files map then comes from the stack's template); deadline is a
        time.time() value, or None for none."""
        files = redact = None
        if defn is None:
            raw = db.raw_template_get(self.database, stack.raw_template_id)
            files = raw.files
            redact = self.stored_redactor(stack, raw)
        nested = self.nested_factory(self, stack) if self.nested_factory else None
        return rt.OperationRuntime(self.database, stack, action,
                                   traversal_id or stack.current_traversal, defn, deadline,
                                   self.engine_id, nested=nested, on_event=on_event,
                                   progress_total=progress_total, files=files,
                                   limits=self.limits(), redact=redact)

    def stored_redactor(self, stack, raw):
        """What masks the hidden parameter values of a stored stack in the messages of an
        operation without a target definition (a delete): its definition's, else (when the
        stored template no longer loads) the stored parameters with the stored template's
        parameter schemas, else its raw parameters section."""
        try:
            return self.stack_definition(stack, raw.id).redact
        except Exception:  # noqa: BLE001 - fall back on less of the stored stack
            LOG.debug('stack %s: definition unavailable for redaction', stack.id)
        limits = self._text_limits(True)
        source = Source.from_raw(raw)
        env_params, env_defaults = {}, {}
        try:
            env = Environment.load(source.environments, limits)
            env_params, env_defaults = env.params, env.param_defaults
        except Exception:  # noqa: BLE001 - the parameters given directly still count
            pass
        try:
            schemas = Template.parse(source.text, filename=source.filename,
                                     limits=limits).parameter_schemas
        except Exception:  # noqa: BLE001 - a template that no longer parses as a whole
            try:
                data, _lines = parser.load_mapping(source.text, source.filename,
                                                   limits=limits)
                schemas = data.get('parameters')
            except Exception:  # noqa: BLE001 - nothing known of its parameters
                schemas = None
        if not isinstance(schemas, dict):
            return redaction.NONE
        return redaction.for_parameters(schemas, source.parameters, env_params,
                                        env_defaults)

    def run(self, stack, action, defn, on_event=None):
        """Run the stack's claimed traversal on its path: on the legacy path it has ended
        when this returns (the final row), on the distributed path its first jobs are
        posted (the row, IN_PROGRESS)."""
        graph = self.compile_graph(stack, action, defn)
        runtime = self.traversal_runtime(stack, action, defn, self.deadline(stack, action),
                                         on_event=on_event, progress_total=len(graph))
        LOG.info('stack %s (%s): %s traversal %s: %d resource actions', stack.name, stack.id,
                 action, stack.current_traversal, len(graph))
        if not len(graph):
            # Nothing to run on either path: the traversal ends now.
            return self.run_traversal(runtime, lambda: True)
        return self.launch(runtime, lambda: self.runner(stack).start(runtime, graph))

    def launch(self, runtime, start):
        """run_traversal(runtime, start) here, or on the runner's background thread when
        it runs the stack there (a top-level legacy stack of a background service): then
        this returns at once with the row, IN_PROGRESS."""
        runner = self.runner(runtime.stack)
        if runner.runs_in_background(runtime.stack):
            runner.submit(runtime, lambda: self.run_traversal(runtime, start))
            return db.stack_get(self.database, runtime.stack_id)
        return self.run_traversal(runtime, start)

    def run_traversal(self, runtime, start):
        """Run a claimed traversal through start() (a runner's start, or its run again of
        an interrupted traversal: True when the traversal ended within the call, False
        when it goes on elsewhere) and end it: complete(), or fail() when start() raises.
        A traversal swapped away meanwhile (stack cancel) writes no end, nor one whose
        first jobs a job board outage kept from being posted (_left_to_sweep). Returns
        the row."""
        stack, action = runtime.stack, runtime.action
        try:
            ended = start()
        except Exception as err:  # noqa: BLE001 - any other failure fails the stack
            if runtime.superseded():
                return self._superseded(stack, action, runtime.on_event)
            if self._left_to_sweep(runtime, err):
                return db.stack_get(self.database, stack.id)
            return self._ended(self.fail(stack.id, runtime.traversal_id, action, err,
                                         runtime.on_event), stack)
        if not ended:
            return db.stack_get(self.database, stack.id)
        if runtime.superseded():
            return self._superseded(stack, action, runtime.on_event)
        return self._ended(self.complete(stack.id, runtime.traversal_id, action,
                                         runtime.definition), stack)

    def _left_to_sweep(self, runtime, err):
        """True when start() failed on a job board outage (jobs.is_transient) after the
        traversal's sync points were stored: they say which nodes should have a job, so
        the conductors' lost-post sweep (conductors/sweeper.py) posts them once the board
        is back, as after a crash of this process; the stack stays IN_PROGRESS (docs/
        chaos.md, rule 2). The board is infrastructure: its outage never fails a stack."""
        if not jobboards.is_transient(err):
            return False
        if sync_points.stack(self.database, runtime.stack_id, runtime.traversal_id) is None:
            return False
        LOG.warning('stack %s (%s): %s traversal %s: its first jobs are not posted (job '
                    'board unavailable: %s); the conductors post them once the board is '
                    'back', runtime.stack.name, runtime.stack_id, runtime.action,
                    runtime.traversal_id, err)
        return True

    def _ended(self, row, stack):
        # complete() and fail() say None when another traversal had ended this one.
        return row if row is not None else db.stack_get(self.database, stack.id)

    def _superseded(self, stack, action, on_event):
        """A traversal run in this process was swapped away while it ran (stack cancel):
        its running actions have ended and it started no other. It writes no end; a
        cancel with rollback of a legacy stack left the rollback traversal claimed for
        this process to run now."""
        current = db.stack_get(self.database, stack.id)
        LOG.info('stack %s (%s): %s traversal %s was cancelled', stack.name, stack.id,
                 action, stack.current_traversal)
        if (current is None or current.convergence or current.status != states.IN_PROGRESS
                or current.action != states.ROLLBACK or not current.rollback_cancelled
                or current.rollback_action != action):
            return current
        defn = None
        if action == states.UPDATE and stack.prev_raw_template_id:
            defn = self.stack_definition(current, current.raw_template_id)
        return self.run(current, states.ROLLBACK, defn, on_event)

    def deadline(self, stack, action):
        """The deadline (a time.time() value) of a traversal starting now: the stack's
        timeout in minutes from now."""
        return time.time() + 60 * (stack.timeout or self.conf.default_timeout)

    def _live(self, stack_id, traversal_id):
        """The stack row while the traversal is its current one and in progress, else None."""
        stack = db.stack_get(self.database, stack_id)
        if (stack is None or stack.current_traversal != traversal_id
                or stack.status != states.IN_PROGRESS):
            return None
        return stack

    def complete(self, stack_id, traversal_id, action, defn):
        """End a traversal whose every action succeeded: outputs stored and the stack
        COMPLETE (a check that found failed resources: FAILED). Returns the row; None when
        the traversal is no longer the stack's one in progress (it ends once)."""
        stack = self._live(stack_id, traversal_id)
        if stack is None:
            return None
        LOG.info('stack %s (%s): %s traversal %s complete', stack.name, stack.id, action,
                 traversal_id)
        return self._completed(stack, action, defn)

    def fail(self, stack_id, traversal_id, action, err, on_event=None):
        """End a failed traversal. A create or update whose rollback is enabled goes
        straight from IN_PROGRESS to its rollback's IN_PROGRESS (whoever polls the stack
        never sees a FAILED that is not final) and the rollback runs; otherwise the stack
        is FAILED. Returns the row; None when the traversal is no longer the stack's one
        in progress (it ends once)."""
        stack = self._live(stack_id, traversal_id)
        if stack is None:
            return None
        LOG.info('stack %s (%s): %s traversal %s failed: %s', stack.name, stack.id, action,
                 traversal_id, err)
        reason = '%s failed: %s' % (action.capitalize(), _failure_reason(err))
        if action in (states.CREATE, states.UPDATE) and not stack.disable_rollback:
            try:
                return self._rollback(stack, action, reason, on_event)
            except Exception as rb_err:  # noqa: BLE001 - the stack must not stay busy
                LOG.warning('stack %s: rollback could not start: %s', stack.name, rb_err)
                reason += '; rollback could not start: %s' % rb_err
        return self._set_status(stack, states.FAILED, reason)

    def _set_status(self, stack, status, reason, extra=None, **ending):
        """Write the stack's status and its event (``ending``: stack_update's
        clear_outputs / mark_deleted, in the same transaction)."""
        values = dict(extra or {}, status=status, status_reason=reason)
        # Only while the traversal is still the stack's: a cancel (or a redirect) that
        # swapped it away keeps what it wrote.
        db.stack_update(self.database, stack.id, values,
                        expected_traversal=stack.current_traversal,
                        event=state_event(stack, values), **ending)
        return db.stack_get(self.database, stack.id)

    def _completed(self, stack, action, defn):
        done = 'Stack %s completed successfully' % action
        if action == states.ROLLBACK:
            # Keep the cause: a rolled-back stack is the trace of a failed operation.
            done += ' (%s)' % stack.status_reason.replace('Rolling back: ', '', 1)
        if action in (states.DELETE,) or (action == states.ROLLBACK and defn is None):
            # One transaction: a kill never leaves a deleted stack IN_PROGRESS.
            return self._set_status(stack, states.COMPLETE, done, clear_outputs=True,
                                    mark_deleted=action == states.DELETE)
        if defn is not None and action != states.CHECK:
            self.store_outputs(stack, defn)
        if action == states.CHECK:
            failed = [r.name for r in db.resource_list(self.database, stack.id)
                      if r.action == states.CHECK and r.status == states.FAILED]
            if failed:
                return self._set_status(stack, states.FAILED, 'Check failed for resources: %s'
                                        % ', '.join(sorted(failed)))
        return self._set_status(stack, states.COMPLETE, done)

    def store_outputs(self, stack, defn):
        """Resolve the outputs from stored attribute values and store them."""
        rows = [r for r in db.resource_list(self.database, stack.id) if r.replaced_by is None]
        stored = {r.name: actions.stored_state(r) for r in rows}
        db.output_set_all(self.database, stack.id, defn.resolve_outputs(stored))

    def _rollback(self, stack, failed_action, reason, on_event):
        """Claim and run the rollback of a failed create or update: to nothing after a
        create, to the previous template after an update."""
        values, defn = self._rollback_values(stack, failed_action, reason)
        claimed = self.claim(stack, values)
        if claimed is None:
            return db.stack_get(self.database, stack.id)
        return self.run(claimed, states.ROLLBACK, defn, on_event)

    def _rollback_values(self, stack, failed_action, reason, cancelled=False):
        """The stack row values that claim a rollback of failed_action (cancelled: a stack
        cancel asked for it), and the definition it converges to (None: to nothing)."""
        values = dict(action=states.ROLLBACK, status=states.IN_PROGRESS,
                      status_reason=_rolling_back(reason), rollback_action=failed_action,
                      rollback_cancelled=cancelled)
        defn = None
        if failed_action == states.UPDATE and stack.prev_raw_template_id:
            defn = self.stack_definition(stack, stack.prev_raw_template_id)
            values.update(raw_template_id=stack.prev_raw_template_id,
                          prev_raw_template_id=None, parameters=defn.masked_parameters())
        return values, defn


# How often an update re-reads a stack whose operation another one swapped meanwhile.
REDIRECT_RETRIES = 20


def cancel_reason(action):
    """The status reason of a cancelled operation ("Update cancelled")."""
    return '%s cancelled' % action.capitalize()


def _rolling_back(reason):
    return 'Rolling back: %s' % reason


def _previous_template(stack):
    """The raw template id a failed update of the stack rolls back to: the stack's
    template; when the update redirects an operation in progress, the last template the
    stack reached instead (an update's previous one, a rollback's or check's target;
    none during a create, whose failure rolls back to nothing)."""
    if stack.status != states.IN_PROGRESS:
        return stack.raw_template_id
    if stack.action == states.UPDATE:
        return stack.prev_raw_template_id
    if stack.action == states.CREATE:
        return None
    return stack.raw_template_id


def state_event(stack, values):
    """The stack's own event of a change of its row to values (None when the values
    change neither its action nor its status: no state change)."""
    if 'status' not in values and 'action' not in values:
        return None
    return db.stack_event(stack.id, stack.name, values.get('action', stack.action),
                          values.get('status', stack.status),
                          values.get('status_reason', stack.status_reason))


def _replace_strings(value, old, new):
    """``value`` with ``old`` replaced by ``new`` in every string (a group's index_var)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    return value


def _missing_required(cls, given):
    """The first required property (without a default) absent from a resource's snippet: a
    property not written is refused at validation, as Heat does, unlike one given by a
    function resolved only at create. None when all are there (or the whole properties
    map comes from a function)."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        return None
    for key, schema in sorted((cls.properties_schema or {}).items()):
        if getattr(schema, 'required', False) and key not in given \
                and getattr(schema, 'default', None) is None:
            return key
    return None


def _type_names(data):
    """Every string value of a ``type`` key anywhere in data (a resource's own type, a
    group's resource_def, ...), walked without recursion."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'type' and isinstance(value, str):
                    yield value
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _strings(data):
    """Every string value anywhere in data (a resource_registry), walked without recursion."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class _Owned:
    """The minimal stack-like view _facade needs for a stack not stored yet."""

    def __init__(self, owner_id, parent_resource_name):
        self.owner_id = owner_id
        self.parent_resource_name = parent_resource_name


def _failure_reason(err):
    """A one-line reason from an engine failure (TaskFlow may wrap several)."""
    causes = getattr(err, '_causes', None)
    if causes:
        return '; '.join(db_database.error_message(c.exception) if c.exception is not None
                         else str(c) for c in causes)
    return db_database.error_message(err) or err.__class__.__name__
