"""standins/sts.py - who calls the IAM stand-in: callers, roles, and STS.

Every request is signed with a caller's keys: an IAM user's access key (in
the state, as ListAccessKeys shows it), or session credentials (ASIA... and a
token) of an assumed role, the account root or another principal.  This
module maps an access key id to its principal (_resolve_key), keeps the
callers a test or tool uses, and answers STS.

Default callers (obviously fake, shaped like AWS's):
    admin     AKIAFAKETESTADMIN777 / fakeTestSecret/DoNotUse+sesctlAdmin00000
              an IAM user "sesctl-test-admin" (path /) that exists in the state
    readonly  AKIAFAKETESTREADONLY / fakeTestSecret/DoNotUse+sesctlReadOnly00
              IAM user "sesctl-test-readonly"; denied iam:Create*, Delete*, Put*,
              Update*, Attach*, Detach*, Tag*, Untag*, Remove*, Deactivate*, Add*,
              Upload*, Enable*
    session   ASIAFAKETESTSESSION7 / fakeTestSecret/DoNotUse+sesctlSession000
              + token DEFAULT_SESSION_TOKEN; principal
              arn:aws:sts::<acct>:assumed-role/sesctl-test-role/sesctl-test-session
iam.callers lists them as dicts {name, access_key_id, secret_access_key,
session_token, principal_arn, deny}; iam.admin, iam.readonly, iam.session are
shortcuts.  A caller dict given to the constructor or add_caller() may hold:
access_key_id, secret_access_key, session_token, principal ("user:NAME",
"root", "role:ROLE/SESSION"; default user:sesctl-test-admin for keys without a
token, role:sesctl-test-role/session for keys with one), deny (list of action
patterns such as "iam:CreateUser" or "iam:Delete*"), expired (True -> ExpiredToken),
name, policy (see below).  User keys are stored on the user (ListAccessKeys
shows them) and any key made by CreateAccessKey can sign requests too; an
Inactive or deleted key gets InvalidClientTokenId, exactly like IAM.

A caller that holds a policy, evaluated as IAM evaluates identity policies
(policy.py: Allow and Deny on Action and Resource with wildcards, explicit
deny wins, default deny):
    iam.caller_with_policy(doc, name=None) -> caller dict
doc (JSON text or dict) becomes the customer managed policy <name>-policy
(up to IAM's 6,144 characters), attached to a new IAM user <name> (default
sesctl-test-policyN, path /) with an access key; only that user's own
policies then decide what it may do (a later PutUserPolicy or
AttachUserPolicy on it counts too), and a refusal is IAM's AccessDenied:
"User: <arn> is not authorized to perform: iam:<Action> on resource:
<arn> because no identity-based policy allows the iam:<Action> action"
(or "... with an explicit deny in an identity-based policy").  The same as
add_caller({"principal": "user:NAME", "policy": doc, ...}); reset() keeps
it.  The deny list (deny(), the readonly caller) still works, and is
checked first.  STS GetCallerIdentity needs no permission (as in AWS);
AssumeRole needs sts:AssumeRole on the role's ARN.

STS (Version=2011-06-15 on the same URL; point AWS_ENDPOINT_URL_STS at iam.url)
-----------------------------------------------------------------------------
AssumeRole and GetCallerIdentity, signed for service "sts" in any well-formed
region (iam.sts_region = "eu-west-1" pins one; the global endpoint's is us-east-1)
and checked with botocore like IAM requests; parameters are validated against
botocore's sts model (RoleSessionName pattern and length, DurationSeconds
900..43200, ExternalId ...).  Roles:
    iam.add_role(name, trusted=None, external_id=None, max_session_duration=3600,
                 path="/", deny=None) -> role dict
trusted lists principal ARNs of the trust policy (default: the admin user's ARN);
"arn:aws:iam::<acct>:root" trusts the whole account, a role ARN trusts its
sessions (role chaining).  external_id set: the sts:ExternalId condition must
match.  AssumeRole is refused with AWS's AccessDenied "User: <caller> is not
authorized to perform: sts:AssumeRole on resource: <role arn>" (403) for a role
that does not exist, an untrusted caller, a missing or wrong ExternalId, or a
caller denied "sts:AssumeRole"; DurationSeconds over MaxSessionDuration (or over
3600 when chaining) is AWS's ValidationError.  Success mints ASIA.../session-token
credentials of principal assumed-role/<role>/<session>, valid for DurationSeconds
(then ExpiredToken), that work as callers of this stand-in (IAM and STS);
role deny patterns apply to them.  iam.roles lists the roles; the control
endpoint takes POST /__fake__/roles {name, trusted, ...}.
"""

import copy
import datetime
import fnmatch
import re

from . import policy
from .protocol import (AWSFAULT_NS, NS, IAMError, _Ctx, error_xml, iso, parse_args,
                       parse_time, service_model, success_xml, validation)
from .state import B32, B64

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_API_VERSION = "2011-06-15"

DEFAULT_SESSION_TOKEN = (
    "FwoGZXIvYXdzEFAKE//////////wEaDFakeSessionTokenForSesctlTests+NotReal/"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "sesctl+test+session+token/only+valid+against+the+local+IAM+stand+in==")
READONLY_DENY = ["iam:Create*", "iam:Delete*", "iam:Put*", "iam:Update*",
                 "iam:Attach*", "iam:Detach*", "iam:Tag*", "iam:Untag*",
                 "iam:Remove*", "iam:Deactivate*", "iam:Add*", "iam:Upload*",
                 "iam:Enable*"]
DEFAULT_CALLERS = [
    {"name": "admin", "access_key_id": "AKIAFAKETESTADMIN777",
     "secret_access_key": "fakeTestSecret/DoNotUse+sesctlAdmin00000",
     "principal": "user:sesctl-test-admin"},
    {"name": "readonly", "access_key_id": "AKIAFAKETESTREADONLY",
     "secret_access_key": "fakeTestSecret/DoNotUse+sesctlReadOnly00",
     "principal": "user:sesctl-test-readonly", "deny": READONLY_DENY},
    {"name": "session", "access_key_id": "ASIAFAKETESTSESSION7",
     "secret_access_key": "fakeTestSecret/DoNotUse+sesctlSession000",
     "session_token": DEFAULT_SESSION_TOKEN,
     "principal": "role:sesctl-test-role/sesctl-test-session"},
]


class Caller:
    def __init__(self, akid, secret, token, kind, name, arn, expired=False):
        self.access_key_id, self.secret, self.token = akid, secret, token
        self.kind, self.name, self.arn, self.expired = kind, name, arn, expired


class STSMixin:
    """FakeIAM's callers, roles and STS actions (see the module docstring)."""

    # ---------------------------------------------------------------- callers
    @property
    def callers(self):
        out = []
        with self._lock:
            for c in self._callers_cfg:
                cred = self._resolve_key(c["access_key_id"])
                out.append({"name": c.get("name"), "access_key_id": c["access_key_id"],
                            "secret_access_key": c["secret_access_key"],
                            "session_token": c.get("session_token"),
                            "principal_arn": cred.arn if cred else None,
                            "deny": list(self._state["denies"].get(c["access_key_id"], []))})
        return out

    def caller(self, name):
        for c in self.callers:
            if c["name"] == name:
                return c
        raise KeyError(name)

    admin = property(lambda self: self.callers[0])
    readonly = property(lambda self: self.caller("readonly"))
    session = property(lambda self: self.caller("session"))

    def add_caller(self, spec):
        """Register caller credentials (dict or 'AKID:SECRET[:TOKEN]')."""
        if isinstance(spec, str):
            parts = spec.split(":", 2)
            if len(parts) < 2:
                raise ValueError(f"caller spec {spec!r}: want AKID:SECRET[:TOKEN]")
            spec = {"access_key_id": parts[0], "secret_access_key": parts[1]}
            if len(parts) == 3 and parts[2]:
                spec["session_token"] = parts[2]
        c = dict(spec)
        akid, secret = c["access_key_id"], c["secret_access_key"]
        token = c.get("session_token")
        c.setdefault("name", f"caller{len(self._callers_cfg) + 1}")
        principal = c.get("principal") or (
            "role:sesctl-test-role/sesctl-test-session" if token
            else "user:sesctl-test-admin")
        with self._lock:
            st = self._state
            if principal.startswith("user:"):
                uname = principal[5:]
                user = self._find_user(uname)
                if user is None:
                    user = self._new_user(uname, "/", [], create_date="2015-01-01T00:00:00Z")
                if self._find_key(akid) is None:
                    user["access_keys"].append({
                        "access_key_id": akid, "secret_access_key": secret,
                        "status": "Active", "create_date": "2015-01-01T00:00:00Z",
                        "last_used": None, "seq": self._next_seq()})
            else:
                st["callers"] = [x for x in st["callers"] if x["access_key_id"] != akid]
                st["callers"].append({"access_key_id": akid, "secret_access_key": secret,
                                      "session_token": token, "principal": principal,
                                      "expired": bool(c.get("expired"))})
            if c.get("deny"):
                st["denies"][akid] = list(c["deny"])
            if c.get("policy") is not None:
                self._give_policy(principal[5:], c["policy"])
            self._callers_cfg = [x for x in self._callers_cfg if x["access_key_id"] != akid]
            self._callers_cfg.append(c)
        return c

    def caller_with_policy(self, doc, name=None):
        """A new IAM user that holds exactly the policy `doc` (JSON text or
        dict), with an access key: its caller dict (see the docstring)."""
        text = policy.check_document(doc)
        with self._lock:
            n = sum(1 for c in self._callers_cfg if c.get("policy") is not None) + 1
            name = name or f"sesctl-test-policy{n}"
            if self._find_user(name) is not None:
                raise ValueError(f"user {name} exists already")
            akid = self._new_akid()
        self.add_caller({"name": name, "access_key_id": akid,
                         "secret_access_key": self._rng.chars(B64, 40),
                         "principal": "user:" + name, "policy": text})
        self._persist()
        return self.caller(name)

    def _give_policy(self, user_name, doc):
        """Attach `doc` to the user as <user>-policy; its policies decide
        from now on.  With self._lock held."""
        arn = self.add_managed_policy(f"{user_name}-policy", document=policy.check_document(doc))
        u = self._find_user(user_name)
        if arn not in u["attached_policies"]:
            u["attached_policies"].append(arn)
        u["authorize_by_policies"] = True

    def deny(self, access_key_id, patterns):
        """Deny actions (patterns like 'iam:CreateUser', 'iam:Delete*') to a key."""
        with self._lock:
            self._state["denies"][access_key_id] = list(patterns)

    def env(self, caller=None, region="us-east-1", stores=False):
        """Environment for a client process (sesctl or the AWS CLI);
        stores=True also points Secrets Manager and SSM at the stand-in
        (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SSM)."""
        c = caller if isinstance(caller, dict) else (
            self.admin if caller is None else self.caller(caller))
        env = {"AWS_ACCESS_KEY_ID": c["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": c["secret_access_key"],
               "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
               "AWS_ENDPOINT_URL_IAM": self.url}
        if stores:
            env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = self.url
            env["AWS_ENDPOINT_URL_SSM"] = self.url
        if c.get("session_token"):
            env["AWS_SESSION_TOKEN"] = c["session_token"]
        if self.ca_file:
            env["AWS_CA_BUNDLE"] = self.ca_file
        return env

    def _resolve_key(self, akid):
        """Access key id -> Caller (any status) or None."""
        found = self._find_key(akid)
        if found:
            u, k = found
            c = Caller(akid, k["secret_access_key"], None, "user", u["name"],
                       self._user_arn(u))
            c.status = k["status"]
            return c
        for x in self._state["callers"]:
            if x["access_key_id"] == akid:
                p = x["principal"]
                if p == "root":
                    arn, kind, name = f"arn:{self.partition}:iam::{self.account_id}:root", "root", None
                elif p.startswith("role:"):
                    role, _, sess = p[5:].partition("/")
                    arn = (f"arn:{self.partition}:sts::{self.account_id}:assumed-role/"
                           f"{role}/{sess or 'session'}")
                    kind, name = "role", None
                else:
                    arn, kind, name = p, "role", None
                expired = x.get("expired", False) or bool(
                    x.get("expires") and parse_time(x["expires"]) <= self.now())
                c = Caller(akid, x["secret_access_key"], x.get("session_token"), kind,
                           name, arn, expired)
                c.status = "Active"
                return c
        return None

    # ------------------------------------------------------------------ STS
    # AssumeRole and GetCallerIdentity for the callers' assume-role profiles
    # (see "STS" in the module docstring).  Everything STS lives in this block.
    sts_region = None       # None: accept any well-formed region in the scope

    @property
    def roles(self):
        with self._lock:
            return copy.deepcopy(self._state.get("roles", []))

    def add_role(self, name, trusted=None, external_id=None, max_session_duration=3600,
                 path="/", deny=None):
        """A role AssumeRole can assume; replaces one of the same name."""
        max_session_duration = int(max_session_duration)
        if not 3600 <= max_session_duration <= 43200:
            raise ValueError("max_session_duration: IAM allows 3600 to 43200")
        with self._lock:
            roles = self._state.setdefault("roles", [])
            roles[:] = [r for r in roles if r["name"] != name]
            role = {"name": name, "path": path,
                    "arn": f"arn:{self.partition}:iam::{self.account_id}:role{path}{name}",
                    "role_id": "AROA" + self._rng.chars(B32, 17),
                    "trusted": (list(trusted) if trusted is not None
                                else [self._user_arn(name="sesctl-test-admin")]),
                    "external_id": external_id,
                    "max_session_duration": max_session_duration,
                    "deny": list(deny or []), "create_date": self._now_iso()}
            roles.append(role)
        self._persist()
        return copy.deepcopy(role)

    def _sts_region_ok(self, region):
        if self.sts_region:
            return region == self.sts_region
        return re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-[0-9]+", region) is not None

    def _process_sts(self, h, rec, params, action, query, body, request_id):
        """_process for Version=2011-06-15.  -> (status, body, err)."""
        try:
            if not action:
                raise IAMError("MissingAction", "Missing Action", 400, ns=STS_NS)
            model = service_model("sts")
            if action not in model.operation_names:
                raise IAMError("InvalidAction", f"Could not find operation {action} for "
                               f"version {STS_API_VERSION}", 400, ns=AWSFAULT_NS)
            caller = self._authenticate(h, rec, query, body, expected_service="sts")
            handler = getattr(self, "_sts_" + action, None)
            if handler is None:
                raise IAMError("FakeIAMNotImplemented",
                               f"The STS stand-in does not implement {action}.", 501)
            args = parse_args(model.operation_model(action), params)
            ctx = _Ctx(action, args, caller, request_id)
            with self._lock:
                result = handler(ctx)
            self._persist()
            rec["applied"] = True
            return 200, success_xml(action, result, request_id, STS_NS), None
        except IAMError as e:
            if e.ns == NS:
                e.ns = STS_NS
            return e.status, error_xml(e, request_id), e

    def _sts_trusts(self, role, caller):
        """Whether the role's trust policy lets `caller` assume it."""
        root = f"arn:{self.partition}:iam::{self.account_id}:root"
        for t in role["trusted"]:
            if t in (caller.arn, "*") or t == root:
                return True
            # A role ARN in a trust policy covers that role's sessions.
            if caller.kind == "role" and ":assumed-role/" in caller.arn and \
                    t.startswith(f"arn:{self.partition}:iam::{self.account_id}:role/") and \
                    t.rsplit("/", 1)[-1] == caller.arn.split("/")[1]:
                return True
        return False

    def _sts_AssumeRole(self, ctx):
        a, caller = ctx.params, ctx.caller
        role_arn, session = a["RoleArn"], a["RoleSessionName"]
        denied = IAMError("AccessDenied", f"User: {caller.arn} is not authorized to perform: "
                          f"sts:AssumeRole on resource: {role_arn}", 403, ns=STS_NS)
        role = next((r for r in self._state.get("roles", []) if r["arn"] == role_arn), None)
        if role is None or not self._sts_trusts(role, caller):
            raise denied
        if role.get("external_id") is not None and a.get("ExternalId") != role["external_id"]:
            raise denied
        for p in self._state["denies"].get(caller.access_key_id) or []:
            if p.startswith("sts:") and fnmatch.fnmatchcase("sts:AssumeRole", p):
                raise denied
        docs = self._caller_policies(caller)
        try:
            if docs is not None and \
                    policy.evaluate(docs, "sts:AssumeRole", role_arn) != "allow":
                raise denied
        except policy.Unsupported as e:
            raise IAMError("FakeIAMNotImplemented", str(e), 501, ns=STS_NS)
        duration = a.get("DurationSeconds", 3600)
        if caller.kind == "role" and duration > 3600:
            raise validation("The requested DurationSeconds exceeds the 1 hour session "
                             "limit for roles assumed by role chaining.")
        if duration > role["max_session_duration"]:
            raise validation("The requested DurationSeconds exceeds the MaxSessionDuration "
                             "set for this role.")
        expires = iso(self.now() + datetime.timedelta(seconds=duration))
        akid = "ASIA" + self._rng.chars(B32, 16)
        secret = self._rng.chars(B64, 40)
        token = "FwoGZXIvYXdzEFAKE" + self._rng.chars(B64, 340)
        self._state["callers"].append({
            "access_key_id": akid, "secret_access_key": secret, "session_token": token,
            "principal": f"role:{role['name']}/{session}", "expired": False,
            "expires": expires, "role_arn": role_arn})
        if role["deny"]:
            self._state["denies"][akid] = list(role["deny"])
        return [("AssumedRoleUser", [
                    ("AssumedRoleId", f"{role['role_id']}:{session}"),
                    ("Arn", f"arn:{self.partition}:sts::{self.account_id}:assumed-role/"
                            f"{role['name']}/{session}")]),
                ("Credentials", [("AccessKeyId", akid), ("SecretAccessKey", secret),
                                 ("SessionToken", token), ("Expiration", expires)])]

    def _sts_GetCallerIdentity(self, ctx):
        c = ctx.caller
        if c.kind == "user":
            u = self._find_user(c.name)
            user_id = u["user_id"] if u else c.access_key_id
        elif ":assumed-role/" in c.arn:
            role_name, sess = c.arn.split("/")[1], c.arn.split("/", 2)[2]
            role = next((r for r in self._state.get("roles", []) if r["name"] == role_name),
                        None)
            user_id = f"{role['role_id'] if role else 'AROAFAKETESTROLE0000'}:{sess}"
        else:
            user_id = self.account_id
        return [("UserId", user_id), ("Account", self.account_id), ("Arn", c.arn)]
