"""Every error the API answers, in Heat's fault JSON (heat/api/middleware/fault.py).

    {"code": 404, "title": "Not Found", "explanation": "The resource could not be found.",
     "error": {"type": "StackNotFound", "message": "stack \"s1\" not found", "traceback": null}}

heatclient prints ``ERROR: <error.message>``, so every answer >= 400 has this shape and
``Content-Type: application/json``. An exception's status is looked up by class name along
its class hierarchy (``ERROR_MAP``), as Heat does, so the engine, persistence and template
layers need not know HTTP; a webob HTTP error keeps its own status. ``traceback`` is filled
in only with ``[DEFAULT] debug``; an unexpected error (500) shows its message only then too.
"""

import json
import logging
import traceback

import webob
import webob.exc

from heat_taskflow.common.text import shown_message

LOG = logging.getLogger(__name__)

# Class name -> status, resolved up the exception's MRO (first name found wins).
ERROR_MAP = {
    # 400: the request, template, environment or parameters are invalid
    'InvalidInput': 400,            # engine/exceptions.py (and its subclasses below)
    'TemplateError': 400,           # template/errors.py: file:line: path: message
    'StackValidationFailed': 400,
    'InvalidProperties': 400,       # resources/exceptions.py
    'ResourceTypeNotFound': 400,
    'InvalidValues': 400,           # persistence/exceptions.py
    'BadRequest': 400,
    'ValueError': 400,
    # 403
    'Forbidden': 403,               # api/policy.py
    'InvalidTenant': 403,
    # 404
    'NotFound': 404,                # persistence/exceptions.py and Heat's name
    'EntityNotFound': 404,
    'StackNotFound': 404,
    'ResourceNotFound': 404,
    'EventNotFound': 404,
    'OutputNotFound': 404,
    'TemplateVersionNotFound': 404,
    'ResourceTypeUnknown': 404,
    # 409
    'StackExists': 409,
    'ActionInProgress': 409,
    'Conflict': 409,
    # 413
    'RequestTooLarge': 413,
    # 501, 503
    'NotImplementedError': 501,
    'ServiceUnavailable': 503,      # engine/exceptions.py: the service is stopping
}


# error.type as Heat names these errors (its exception classes), where ours differ.
HEAT_TYPES = {
    'TemplateError': 'StackValidationFailed',
    'InvalidProperties': 'StackValidationFailed',
    'StackNotFound': 'EntityNotFound',
    'ResourceNotFound': 'EntityNotFound',
    'EventNotFound': 'EntityNotFound',
    'OutputNotFound': 'EntityNotFound',
}


class APIError(Exception):
    """An error with a status of its own (the controllers' and middlewares' errors); its
    ``error.type`` is webob's class name for the status (HTTPBadRequest, ...), as Heat's."""

    code = 400
    error_type = None

    def __init__(self, message, code=None, headers=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        if self.error_type is None:
            self.error_type = webob.exc.status_map.get(
                self.code, webob.exc.HTTPInternalServerError).__name__


class BadRequest(APIError):
    """The request is malformed (a query parameter, the body)."""

    code = 400


class NotImplementedYet(APIError):
    """A route of Heat's API whose operation heat-taskflow does not have yet."""

    code = 501


class RequestTooLarge(APIError):
    """The body is larger than [api] max_request_body_size."""

    code = 413
    error_type = 'RequestLimitExceeded'     # Heat's name for a JSON body over its limit


def status_of(exc):
    """The HTTP status an exception maps to."""
    if isinstance(exc, webob.exc.HTTPException):
        return exc.code
    if isinstance(exc, APIError):
        return exc.code
    for cls in type(exc).__mro__:
        if cls.__name__ in ERROR_MAP:
            return ERROR_MAP[cls.__name__]
    code = getattr(exc, 'code', None)      # e.g. a policy error carrying its own status
    if isinstance(code, int) and 400 <= code < 600:
        return code
    return 500


def fault_body(code, error_type, message, trace=None):
    """Heat's fault document for a status, an error type and a message."""
    cls = webob.exc.status_map.get(code, webob.exc.HTTPInternalServerError)
    return {'code': code, 'title': cls.title, 'explanation': cls.explanation,
            'error': {'type': error_type, 'message': message, 'traceback': trace}}


def fault_response(code, error_type, message, trace=None, headers=None):
    """A webob Response carrying Heat's fault document."""
    resp = webob.Response(status=code, content_type='application/json', charset=None)
    resp.body = json.dumps(fault_body(code, error_type, message, trace)).encode('utf-8')
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def response_for(exc, debug=False):
    """The fault response for an exception (logged when it is a server error)."""
    code = status_of(exc)
    trace = traceback.format_exc() if debug else None
    headers = {}
    error_type = HEAT_TYPES.get(type(exc).__name__, type(exc).__name__)
    if isinstance(exc, webob.exc.HTTPException):
        message = exc.detail or exc.explanation
        headers = {k: v for k, v in exc.headers.items() if k.lower() == 'allow'}
    elif isinstance(exc, APIError):
        message = exc.message
        headers = exc.headers
        error_type = exc.error_type
    else:
        message = str(exc)
    if code >= 500 and not isinstance(exc, (APIError, webob.exc.HTTPException)):
        if code not in (501, 503):
            LOG.error('unexpected error: %s', exc, exc_info=exc)
            if not debug:
                message = fault_body(code, '', '')['explanation']
    if isinstance(message, str):
        message = shown_message(message)
    return fault_response(code, error_type, message, trace, headers)


class FaultWrapper:
    """WSGI middleware: any exception below becomes Heat's fault JSON."""

    def __init__(self, app, conf):
        self.app = app
        self.conf = conf

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except webob.exc.HTTPException as exc:
            if exc.code < 400:                  # a redirect or an empty success
                return exc(environ, start_response)
            resp = response_for(exc, debug=bool(getattr(self.conf, 'debug', False)))
            return resp(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - every error becomes a fault document
            resp = response_for(exc, debug=bool(getattr(self.conf, 'debug', False)))
            return resp(environ, start_response)
