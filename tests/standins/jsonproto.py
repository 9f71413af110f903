"""standins/jsonproto.py - the AWS JSON 1.1 protocol, as Secrets Manager and SSM speak it.

The same server (server.py) and port as IAM: a request that carries an
X-Amz-Target header is a JSON 1.1 request, routed by the target's prefix
("secretsmanager.<Action>" -> secretsmanager.py, "AmazonSSM.<Action>" ->
ssm.py).  It is logged (with action, service and the signing region), goes
through the same fault plan by its action name, is authenticated by
sigcheck.py for the service's signing name in whatever region the client
signed for (both are regional services: any well-formed region is
accepted, and rec["region"] says which one was used; the stores are kept
per region), authorized by the deny list and the caller's policies (with
the actions the request implies, and the use of a customer managed KMS
key on the caller's behalf: see _authorize_json and _kms_use), then
validated against botocore's service model and run.

Wire format (botocore's json protocol, the services' own answers):
    request   POST /, Content-Type: application/x-amz-json-1.1,
              X-Amz-Target: <targetPrefix>.<Action>, a JSON object body
    success   200, Content-Type application/x-amz-json-1.1, a JSON object;
              timestamps are epoch seconds (numbers)
    error     400 (or 5xx), {"__type": "<Code>", "<message key>": "..."}
              and x-amzn-RequestId.  The message key is the member name of
              the error shape in botocore's model: "Message" for every
              Secrets Manager error and SSM's InternalServerError,
              "message" for SSM's ParameterAlreadyExists and the like.
              SSM's ParameterNotFound (and InvalidResourceId) carry no message
              at all: the AWS CLI prints "An error occurred
              (ParameterNotFound) when calling the GetParameter operation: "
              (captures in awslabs/aws-simple-cicd#10, vandium-io/
              aws-param-store#8, external-secrets/kubernetes-external-secrets#264).
The errors that the Query stand-ins share (signature, caller, throttling,
faults) take the JSON services' names here (to_json_error): a bad
signature is InvalidSignatureException, an unknown key
UnrecognizedClientException, AccessDenied AccessDeniedException, a 500
fault the service's InternalServiceError (Secrets Manager) or
InternalServerError (SSM), throttling ThrottlingException.

Input: the body is checked against the operation's input shape (JSON types,
then Coral's constraint errors: required members, lengths, ranges, enums,
patterns), "N validation error(s) detected: Value '<v>' at '<member>' failed
to satisfy constraint: ..." (the JSON services echo the value, e.g. the
capture in remind101/ssm-env#10; sensitive members are not echoed).
"""

import base64
import fnmatch
import json
import re

from .protocol import IAMError, _Ctx, lower_first, pattern_ok, service_model

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
# X-Amz-Target prefix -> botocore service name (its model's targetPrefix)
TARGETS = {"secretsmanager": "secretsmanager", "AmazonSSM": "ssm"}
REGION_RX = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]+")
# The services' internal error for a 5xx (each model's own shape).
INTERNAL = {"secretsmanager": "InternalServiceError", "ssm": "InternalServerError"}
# Query-protocol codes (protocol.py, sigcheck.py, faults.py) -> JSON services'.
# UNSURE: the HTTP status of the authentication errors; JSON 1.x services
# (DynamoDB captures) answer them with 400.
_TRANSLATE = {
    "SignatureDoesNotMatch": ("InvalidSignatureException", 400),
    "InvalidClientTokenId": ("UnrecognizedClientException", 400),
    "MissingAuthenticationToken": ("MissingAuthenticationTokenException", 400),
    "IncompleteSignature": ("IncompleteSignatureException", 400),
    "ExpiredToken": ("ExpiredTokenException", 400),
    "AccessDenied": ("AccessDeniedException", 400),
    "Throttling": ("ThrottlingException", 400),
    "ValidationError": ("ValidationException", 400),
}


class JSONError(IAMError):
    """An error answer of a JSON service.  message None: the body has
    __type only."""

    def __init__(self, code, message=None, status=400, key=None):
        super().__init__(code, message or "", status, "Sender" if status < 500 else "Receiver")
        self.json_message = message
        self.key = key


def not_implemented(svc, what):
    return JSONError("FakeIAMNotImplemented",
                     f"The {svc} stand-in does not implement {what}.", 501)


def _message_key(svc, code):
    """The member name of the error shape in the model ('Message' or
    'message'); 'message' for errors the model does not list (UNSURE for
    Secrets Manager, whose own shapes all say 'Message')."""
    try:
        shape = service_model(svc).shape_for(code)
    except Exception:       # botocore raises NoShapeFoundError
        return "message"
    for name in getattr(shape, "members", {}):
        if name.lower() == "message":
            return name
    return "message"


def to_json_error(err, svc):
    """An IAMError (Query stand-ins' codes) as the JSON service answers it."""
    if isinstance(err, JSONError):
        if err.key is None:
            err.key = _message_key(svc, err.code)
        return err
    code, status = err.code, err.status
    if code in _TRANSLATE:
        code, status = _TRANSLATE[code]
    elif code in ("ServiceFailure", "InternalFailure"):
        code = INTERNAL[svc]
    e = JSONError(code, err.message, status)
    e.key = _message_key(svc, code)
    return e


def json_error_body(err):
    obj = {"__type": err.code}
    if err.json_message is not None:
        obj[err.key or "message"] = err.json_message
    return json.dumps(obj).encode()


def json_target(target):
    """X-Amz-Target -> (service or None, action)."""
    prefix, _, action = (target or "").strip().partition(".")
    return TARGETS.get(prefix), action


def epoch(dt):
    return round(dt.timestamp(), 3)


def region_ok(region):
    return REGION_RX.fullmatch(region or "") is not None


# --------------------------------------------------------------------------
# input: the JSON body checked against the model

_JSON_TYPES = {"string": str, "boolean": bool, "blob": str, "structure": dict,
               "map": dict, "list": list, "timestamp": (int, float, str)}


def _serialization(msg):
    # UNSURE: Coral's wording for a body of the wrong type.
    return JSONError("SerializationException", msg, 400)


def _check_types(shape, v, path):
    t = shape.type_name
    if t in ("integer", "long"):
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif t in ("float", "double"):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    else:
        ok = isinstance(v, _JSON_TYPES.get(t, object))
    if not ok:
        raise _serialization(f"Unexpected value type in payload at '{path or '.'}'")
    if t == "structure":
        for name, m in shape.members.items():
            if v.get(name) is not None:
                _check_types(m, v[name], f"{path}.{name}" if path else name)
    elif t == "list":
        for i, item in enumerate(v):
            if item is not None:
                _check_types(shape.member, item, f"{path}[{i}]")
    elif t == "blob":
        try:
            base64.b64decode(v, validate=True)
        except ValueError:
            raise _serialization(f"Invalid base64 at '{path}'")


def _echo(shape, v):
    if shape.metadata.get("sensitive"):
        return ""
    if isinstance(v, list):
        return "Value '[" + ", ".join(str(x) for x in v) + "]' "
    return f"Value '{v}' "


def _validate(shape, v, path, errors):
    md = shape.metadata
    t = shape.type_name
    pre = f"{_echo(shape, v)}at '{path}' failed to satisfy constraint: "
    if t == "structure":
        for name in shape.required_members:
            if v.get(name) is None:
                errors.append(f"Value null at '{path + '.' if path else ''}"
                              f"{lower_first(name)}' failed to satisfy constraint: "
                              "Member must not be null")
        for name, m in shape.members.items():
            if v.get(name) is not None:
                _validate(m, v[name], f"{path + '.' if path else ''}{lower_first(name)}",
                          errors)
        return
    if t in ("list", "string", "blob"):
        n = len(v) if t != "blob" else len(base64.b64decode(v))
        if "min" in md and n < md["min"]:
            errors.append(pre + f"Member must have length greater than or equal to {md['min']}")
        if "max" in md and n > md["max"]:
            errors.append(pre + f"Member must have length less than or equal to {md['max']}")
    if t == "list":
        for i, item in enumerate(v, 1):
            if item is not None:
                _validate(shape.member, item, f"{path}.{i}.member", errors)
    elif t in ("integer", "long"):
        if "min" in md and v < md["min"]:
            errors.append(pre + f"Member must have value greater than or equal to {md['min']}")
        if "max" in md and v > md["max"]:
            errors.append(pre + f"Member must have value less than or equal to {md['max']}")
    elif t == "string":
        if "enum" in md and v not in md["enum"]:
            errors.append(pre + "Member must satisfy enum value set: ["
                          + ", ".join(md["enum"]) + "]")
        if "pattern" in md and not pattern_ok(_unanchor(md["pattern"]), v):
            errors.append(pre + "Member must satisfy regular expression pattern: "
                          + md["pattern"])


def _unanchor(pattern):
    """'^(X)$' -> 'X' (the JSON models anchor their patterns; matching is
    whole-string anyway, and protocol.pattern_ok reads \\p{..} classes
    only in a bare [..]+ or [..]*)."""
    m = re.fullmatch(r"\^\((.*)\)\$", pattern) or re.fullmatch(r"\^(.*)\$", pattern)
    return m.group(1) if m else pattern


def parse_json_args(op, body):
    """The operation's input from the request body, checked against the
    model.  Members the model does not know are ignored."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise _serialization("Malformed JSON body")   # UNSURE: wording
    if not isinstance(data, dict):
        raise _serialization("Start of structure or map found where not expected.")
    shape = op.input_shape
    if shape is None:
        return {}
    args = {k: v for k, v in data.items() if k in shape.members and v is not None}
    _check_types(shape, args, "")
    errors = []
    _validate(shape, args, "", errors)
    if errors:
        n = len(errors)
        raise JSONError("ValidationException",
                        f"{n} validation error{'s' if n != 1 else ''} detected: "
                        + "; ".join(errors), 400)
    return args


# --------------------------------------------------------------------------
# one request

class JSONServicesMixin:
    """FakeIAM's JSON 1.1 services: routing, authorization, answers (see
    the module docstring).  The actions live in secretsmanager.py (_sm_*)
    and ssm.py (_ssm_*)."""

    _HANDLER_PREFIX = {"secretsmanager": "_sm_", "ssm": "_ssm_"}

    def _process_json(self, h, rec, action, query, body, request_id):
        """_process for X-Amz-Target requests.  -> (status, body, err)."""
        svc = rec.get("service")
        try:
            if svc is None:
                # UNSURE: AWS's front end for a target no service owns.
                raise JSONError("UnknownOperationException", None, 400)
            model = service_model(svc)
            if action not in model.operation_names:
                raise JSONError("UnknownOperationException", None, 400)
            caller = self._authenticate(h, rec, query, body, expected_service=svc)
            handler = getattr(self, self._HANDLER_PREFIX[svc] + action, None)
            if handler is None:
                raise not_implemented(svc, action)
            args = parse_json_args(model.operation_model(action), body)
            rec["params"] = _loggable(args)
            ctx = _Ctx(action, args, caller, request_id)
            ctx.service, ctx.region = svc, rec.get("region")
            with self._lock:
                self._authorize_json(ctx)
                result = handler(ctx)
            if not action.startswith(("Get", "Describe", "List")):
                self._persist()
            rec["applied"] = True
            return 200, json.dumps(result or {}).encode(), None
        except IAMError as e:
            e = to_json_error(e, svc or "ssm")
            return e.status, json_error_body(e), e

    def _authorize_json(self, ctx):
        """The deny list (patterns such as 'secretsmanager:*' or
        'ssm:PutParameter'), then the caller's identity policies on each
        resource the request names (as for IAM); then the actions the
        request implies (<prefix>implied: a resource made with tags is
        authorized for tagging too), the same way."""
        prefix = self._HANDLER_PREFIX[ctx.service]
        resources = getattr(self, prefix + "resources")(ctx)
        checks = [(f"{ctx.service}:{ctx.action}", arn) for arn in resources]
        checks += getattr(self, prefix + "implied")(ctx, resources)
        for target, arn in checks:
            self._authorize_one(ctx, target, arn)

    def _authorize_one(self, ctx, target, arn):
        for p in self._state["denies"].get(ctx.caller.access_key_id) or []:
            p = p if ":" in p else "iam:" + p
            if fnmatch.fnmatchcase(target, p):
                raise JSONError("AccessDeniedException",
                                f"User: {ctx.caller.arn} is not authorized to perform: "
                                f"{target} on resource: {arn}", 400)
        self._check_policies(ctx.caller, target, arn, arn)

    # ------------------------------------------------------------------ KMS
    # No KMS stand-in: a customer managed key is a name, and its use is
    # authorized as AWS does on the caller's behalf when Secrets Manager
    # or Parameter Store encrypts or decrypts with it (the KMS Developer
    # Guide's "How AWS Secrets Manager uses AWS KMS" and "How AWS Systems
    # Manager Parameter Store uses AWS KMS"): the caller's policies (and
    # the deny list) must allow the kms: action on the key's ARN.  An AWS
    # managed key (none given, alias/aws/...) needs nothing: its key policy
    # lets every principal of the account use it through the service.
    # Key policies are not modelled (they are assumed to defer to IAM, as
    # the default key policy does).
    def _kms_arn(self, ctx, key_ref):
        """The ARN of the key `key_ref` (id, ARN, alias) names; None for an
        AWS managed key."""
        if not key_ref or key_ref.startswith("alias/aws/") or ":alias/aws/" in key_ref:
            return None
        if key_ref.startswith("alias/") or ":alias/" in key_ref:
            raise not_implemented(ctx.service, f"KMS aliases for a caller whose "
                                  f"permissions are checked ({key_ref}): give the key's "
                                  "id or ARN")
        if key_ref.startswith("arn:"):
            return key_ref
        return f"arn:{self.partition}:kms:{ctx.region}:{self.account_id}:key/{key_ref}"

    def _kms_use(self, ctx, key_ref, *actions, message=None):
        """The service uses key `key_ref` for the caller: each kms action
        must be allowed.  `message`: the service's own words for a refusal
        (AccessDeniedException either way)."""
        if (self._caller_policies(ctx.caller) is None and
                not self._state["denies"].get(ctx.caller.access_key_id)):
            return
        arn = self._kms_arn(ctx, key_ref)
        if arn is None:
            return
        for action in actions:
            try:
                self._authorize_one(ctx, action, arn)
            except IAMError as e:
                if e.status >= 500:
                    raise
                raise JSONError("AccessDeniedException", message or e.message, 400)

    # --------------------------------------------------- store state helpers
    def _store(self, kind):
        """The list of secrets or parameters (all regions) in the state."""
        return self._state.setdefault(kind, [])


def _loggable(args):
    return json.loads(json.dumps(args))
