"""standins/protocol.py - the AWS Query protocol as IAM and STS speak it.

What every answer of the IAM stand-in is made of: IAMError (code, message,
HTTP status, Sender/Receiver) rendered as <ErrorResponse>, success answers
as <ActionResponse><ActionResult>, the timestamps of the wire, and the
request's parameters: Query-protocol flattened parameters parsed into the
operation's input structure and validated against botocore's service model
(python3-botocore), with Coral's wording for constraint errors and IAM's own
for names and paths.  Nothing here knows the stand-in's state.
"""

import datetime
import re
import threading
import unicodedata
from xml.sax.saxutils import escape as _xml_escape

import botocore.session

NS = "https://iam.amazonaws.com/doc/2010-05-08/"
# InvalidAction comes back in this namespace from the query front end
# (django-ses#158 capture, SES).  UNSURE for IAM itself.
AWSFAULT_NS = "http://webservices.amazon.com/AWSFault/2005-15-09"
API_VERSION = "2010-05-08"
SIGV4_FMT = "%Y%m%dT%H%M%SZ"
ISO_FMT = "%Y-%m-%dT%H:%M:%SZ"

_model_lock = threading.Lock()
_models = {}


def service_model(name):
    """botocore's model of an AWS service ("iam", "sts"; python3-botocore),
    loaded once."""
    with _model_lock:
        if name not in _models:
            _models[name] = botocore.session.get_session().get_service_model(name)
        return _models[name]


# --------------------------------------------------------------------------
# errors

class IAMError(Exception):
    """An error answer: code, message, HTTP status, Sender/Receiver."""

    def __init__(self, code, message, status=400, type_="Sender", ns=NS):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.type = code, message, status, type_
        self.ns = ns


def no_such_user(name):
    return IAMError("NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def validation(msg):
    return IAMError("ValidationError", msg, 400)


def coral_validation(errors):
    n = len(errors)
    return validation(f"{n} validation error{'s' if n != 1 else ''} detected: "
                      + "; ".join(errors))


# --------------------------------------------------------------------------
# time and names

def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse_time(value):
    """datetime, ISO 8601 ('2015-08-30T12:36:00Z') or SigV4 basic format."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        dt = value
    else:
        s = str(value).strip()
        for fmt in (ISO_FMT, SIGV4_FMT, "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
            try:
                dt = datetime.datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
        else:
            dt = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.astimezone(datetime.timezone.utc).replace(microsecond=0)


def iso(dt):
    return dt.strftime(ISO_FMT)


def lower_first(name):
    return name[:1].lower() + name[1:]


# --------------------------------------------------------------------------
# XML

def _render(elems, depth, out):
    pad = "  " * depth
    for tag, val in elems:
        if val is None:
            continue
        if isinstance(val, list):
            if not val:
                out.append(f"{pad}<{tag}/>")
            else:
                out.append(f"{pad}<{tag}>")
                _render(val, depth + 1, out)
                out.append(f"{pad}</{tag}>")
        else:
            if isinstance(val, bool):
                val = "true" if val else "false"
            out.append(f"{pad}<{tag}>{_xml_escape(str(val))}</{tag}>")


def success_xml(action, result, request_id, ns=NS):
    """<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>..."""
    body = []
    if result is not None:
        body.append((f"{action}Result", result))
    body.append(("ResponseMetadata", [("RequestId", request_id)]))
    out = [f'<{action}Response xmlns="{ns}">']
    _render(body, 1, out)
    out.append(f"</{action}Response>")
    return ("\n".join(out) + "\n").encode()


def error_xml(err, request_id):
    out = [f'<ErrorResponse xmlns="{err.ns}">']
    _render([("Error", [("Type", err.type), ("Code", err.code),
                        ("Message", err.message)]),
             ("RequestId", request_id)], 1, out)
    out.append("</ErrorResponse>")
    return ("\n".join(out) + "\n").encode()


def members(items):
    return [("member", it) for it in items]


# --------------------------------------------------------------------------
# input: Query parameters -> structure, per the botocore model, and validation

def _java_class_matcher(pattern):
    """Compile a model pattern (Java regex, whole-string match) for Python.

    \\w is ASCII in Java unless told otherwise, so re.ASCII.  \\p{L}, \\p{Z},
    \\p{N} (tag patterns) are handled by a per-character check.
    """
    props = re.findall(r"\\p\{(\w+)\}", pattern)
    if not props:
        rx = re.compile(pattern, re.ASCII)
        return lambda s: rx.fullmatch(s) is not None
    m = re.fullmatch(r"\[(.*)\]([+*])", pattern)
    if not m:
        rx = re.compile(re.sub(r"\\p\{\w+\}", "", pattern))
        return lambda s: rx.fullmatch(s) is not None
    rest = re.sub(r"\\p\{\w+\}", "", m.group(1))
    rest_rx = re.compile("[" + rest + "]") if rest else None
    cats = tuple(props)
    minimum = 1 if m.group(2) == "+" else 0

    def match(s):
        if len(s) < minimum:
            return False
        for ch in s:
            if unicodedata.category(ch)[0] in cats:
                continue
            if rest_rx is not None and rest_rx.fullmatch(ch):
                continue
            return False
        return True
    return match


_pattern_cache = {}


def pattern_ok(pattern, value):
    fn = _pattern_cache.get(pattern)
    if fn is None:
        fn = _pattern_cache[pattern] = _java_class_matcher(pattern)
    return fn(value)


# Shapes whose pattern IAM reports with its own wording (after the generic
# checks pass), instead of Coral's "Member must satisfy regular expression".
NAME_SHAPES = {"userNameType", "existingUserNameType", "policyNameType",
               "groupNameType", "virtualMFADeviceName"}
PATH_SHAPES = {"pathType"}
PATH_PREFIX_SHAPES = {"pathPrefixType", "policyPathType"}


class ParamError(Exception):
    pass


def parse_query_struct(shape, flat, prefix=""):
    """Query-protocol flattened params -> dict, following the model."""
    out = {}
    for name, mshape in shape.members.items():
        loc = mshape.serialization.get("name", name)
        key = prefix + loc
        val = _parse_member(mshape, flat, key)
        if val is not None:
            out[name] = val
    return out


def _parse_member(shape, flat, key):
    t = shape.type_name
    if t == "structure":
        sub_prefix = key + "."
        if not any(k.startswith(sub_prefix) for k in flat):
            return None
        return parse_query_struct(shape, flat, sub_prefix)
    if t == "list":
        if key in flat and flat[key] == "":
            return []
        member_loc = shape.member.serialization.get("name", "member")
        pfx = f"{key}.{member_loc}."
        idx = set()
        for k in flat:
            if k.startswith(pfx):
                n = k[len(pfx):].split(".", 1)[0]
                if n.isdigit():
                    idx.add(int(n))
        if not idx:
            return None
        return [_parse_member(shape.member, flat, f"{pfx}{i}") for i in sorted(idx)]
    if key not in flat:
        return None
    raw = flat[key]
    if t in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise ParamError(key, "an integer")
    if t == "boolean":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ParamError(key, "a boolean")
    return raw


def validate_struct(shape, value, path, errors, custom):
    """Collect Coral-style constraint errors; IAM-worded pattern checks go to custom."""
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(f"Value at '{path}{lower_first(name)}' failed to satisfy "
                          "constraint: Member must not be null")
    for name, mshape in shape.members.items():
        if value.get(name) is None:
            continue
        _validate_value(mshape, value[name], path + lower_first(name), errors, custom)


def _validate_value(shape, v, path, errors, custom):
    md = shape.metadata
    prefix = f"Value at '{path}' failed to satisfy constraint: "
    t = shape.type_name
    if t == "structure":
        validate_struct(shape, v, path + ".", errors, custom)
        return
    if t == "list":
        if "max" in md and len(v) > md["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {md['max']}")
        if "min" in md and len(v) < md["min"]:
            errors.append(prefix + f"Member must have length greater than or equal to {md['min']}")
        for i, item in enumerate(v, 1):
            if item is None:
                continue
            _validate_value(shape.member, item, f"{path}.{i}.member", errors, custom)
        return
    if t in ("integer", "long"):
        if "min" in md and v < md["min"]:
            errors.append(prefix + f"Member must have value greater than or equal to {md['min']}")
        if "max" in md and v > md["max"]:
            errors.append(prefix + f"Member must have value less than or equal to {md['max']}")
        return
    if t == "string":
        if "min" in md and len(v) < md["min"]:
            errors.append(prefix + f"Member must have length greater than or equal to {md['min']}")
        if "max" in md and len(v) > md["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {md['max']}")
        if "enum" in md and v not in md["enum"]:
            errors.append(prefix + "Member must satisfy enum value set: ["
                          + ", ".join(md["enum"]) + "]")
        if "pattern" in md and not pattern_ok(md["pattern"], v):
            if shape.name in NAME_SHAPES | PATH_SHAPES | PATH_PREFIX_SHAPES:
                custom.append((shape.name, path))
            else:
                errors.append(prefix + "Member must satisfy regular expression pattern: "
                              + md["pattern"])


def parse_args(op, params, pattern_error=None):
    """The operation's input from the flat query parameters, checked
    against botocore's model: a malformed value or a constraint violation
    raises the ValidationError the service answers.  Failed patterns raise
    pattern_error(shape, path) when given (IAM's own wording), else they
    pass (the STS handlers check what they need)."""
    if not op.input_shape:
        return {}
    try:
        args = parse_query_struct(op.input_shape, params)
    except ParamError as e:
        key, what = e.args
        # UNSURE: the services' wording for a non-numeric/boolean value.
        raise validation(f"1 validation error detected: Value at "
                         f"'{lower_first(key)}' failed to satisfy constraint: "
                         f"Member must be {what}")
    errors, custom = [], []
    validate_struct(op.input_shape, args, "", errors, custom)
    if errors:
        raise coral_validation(errors)
    if custom and pattern_error:
        raise pattern_error(*custom[0])
    return args


def iam_pattern_error(shape_name, path):
    field = path.rsplit(".", 1)[-1]
    if shape_name in PATH_SHAPES:
        return validation(f"The specified value for {field} is invalid. It must begin "
                          "and end with / and contain only alphanumeric characters "
                          "and/or / characters.")
    if shape_name in PATH_PREFIX_SHAPES:
        return validation(f"The specified value for {field} is invalid. It must begin "
                          "with the / character and contain only alphanumeric "
                          "characters and/or / characters.")
    return validation(f"The specified value for {field} is invalid. It must contain "
                      "only alphanumeric characters and/or the following: +=,.@_-")


# --------------------------------------------------------------------------
# one request

class _Ctx:
    """Everything one IAM request carries through the handlers."""

    def __init__(self, action, params, caller, request_id):
        self.action, self.params, self.caller, self.request_id = action, params, caller, request_id
