"""standins/iam.py - a local stand-in for the AWS IAM Query API, for sesctl's tests.

It behaves like AWS IAM, not like whatever sesctl sends: the API model is
botocore's (Debian python3-botocore), every request's SigV4 signature is checked
with botocore's signer, and the answers copy IAM's XML, error codes, HTTP status
and message wording (sources at the end of this docstring).

Run it with Debian's python: /usr/bin/python3 (botocore comes from python3-botocore).

In-process use
--------------
    import sys; sys.path.insert(0, "tests")
    from standins.iam import FakeIAM

    with FakeIAM(tls=True) as iam:          # HTTPS on 127.0.0.1, ephemeral port
        iam.url                             # "https://127.0.0.1:PORT"
        iam.ca_file                         # CA made for this run (trust it)
        iam.admin                           # default caller, a dict (see below)
        env = iam.env()                     # AWS_* env for a client (keys, CA, region,
                                            # AWS_ENDPOINT_URL_IAM, AWS_MAX_ATTEMPTS unset)
        ... run sesctl / aws with env ...
        iam.requests                        # what was received (list of dicts)
        iam.user("sesctl-smtp")             # state of one user (dict) or None

Constructor options (all keyword): tls=True, host="127.0.0.1", port=0, cert_dir=None
(temp dir if None), account_id="123456789012", partition="aws" (signing region
follows: aws->us-east-1, aws-cn->cn-north-1, aws-us-gov->us-gov-west-1),
callers=None (list of caller dicts or "AKID:SECRET[:TOKEN]" strings; None = the
defaults below), now=None (pin the server clock: datetime or ISO 8601 string),
skew_check=True, max_skew=900 (seconds), seed=None (int: ids, secrets and request
ids become deterministic), state=None (dict or JSON file to start from),
state_file=None (JSON file rewritten after every change, and at stop),
page_cap=None (IAM "might return fewer results": answer at most N items per page),
track_last_used=True (a key that signs a request gets LastUsed iam/<region>),
idle_timeout=60 (seconds a kept-alive connection may idle), verbose=False,
latency=0.0 (seconds every IAM answer is held back, as a far-away IAM would;
iam.set_latency(seconds) changes it; control requests are never delayed).
Connections are served concurrently (a thread each), so a client that sends
requests in parallel sees them overlap; the log's received_at/answered_at
show it.

FakeIAM is made of one mixin per topic, each module documenting its part:
    state.py            state and seeding, the clock
    sts.py              callers (the default ones, one that holds a policy),
                        roles, STS
    policy.py           the evaluation of a caller's identity policies
    sigcheck.py         the SigV4 check of every request (botocore)
    faults.py           the fault plan
    server.py           HTTP(S), the request log, connections, the control
                        endpoint (for a stand-in in another process)
    iam_dependents.py   groups, login profiles, certificates, SSH keys,
                        service-specific credentials, MFA devices
    protocol.py         errors, XML, parameters checked against botocore's model
    jsonproto.py        the AWS JSON 1.1 protocol (X-Amz-Target) on the same
                        port, for:
      secretsmanager.py   Secrets Manager (iam.secret(name), iam.secrets())
      ssm.py              SSM Parameter Store (iam.parameter(name), iam.parameters())
This module holds the IAM routing and authorization and the actions on
users, their policies and their access keys.  The command line is the
package's launcher (__main__.py):
    /usr/bin/python3 tests/standins iam --port 0 --cert-dir DIR ...

Supported actions
-----------------
CreateUser GetUser ListUsers DeleteUser TagUser UntagUser ListUserTags
PutUserPolicy GetUserPolicy ListUserPolicies DeleteUserPolicy
AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies
CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey GetAccessKeyLastUsed
CreateGroup AddUserToGroup ListGroupsForUser RemoveUserFromGroup
CreateLoginProfile GetLoginProfile DeleteLoginProfile
UploadSigningCertificate ListSigningCertificates DeleteSigningCertificate
UploadSSHPublicKey ListSSHPublicKeys DeleteSSHPublicKey
CreateServiceSpecificCredential ListServiceSpecificCredentials
DeleteServiceSpecificCredential
CreateVirtualMFADevice EnableMFADevice ListMFADevices DeactivateMFADevice
DeleteVirtualMFADevice
Listings: users, groups and policy names by name (case-insensitive); keys,
certificates, SSH keys and MFA devices oldest first (creation order on ties);
tags in insertion order.  Markers are opaque base64 (so they hold '+' and '/',
which a client must percent-encode) and only valid for the listing that made them.
Other actions of the IAM model answer 501 FakeIAMNotImplemented (so a test sees
at once that the stand-in, not IAM, is the limit); names IAM does not know get
IAM's InvalidAction.

Sources for behaviour (see ../shared/vectors/iam-api.md and sigv4-iam-post.md)
-----------------------------------------------------------------------------
[BC]  botocore model iam/2010-05-08 (shapes, required members, lengths, patterns,
      enums, paginators) - loaded at run time from python3-botocore.
[FIX] botocore fixtures: NoSuchEntity body, GetUserPolicy percent-encoded document.
[DOC] IAM API Reference examples (response shapes, ListAccessKeysResult/UserName).
Error wording from real captures quoted in public issue threads:
  NoSuchEntity user (FIX); EntityAlreadyExists "User with name X already exists."
  (AdRoll/goamz); LimitExceeded "Cannot exceed quota for AccessKeysPerUser: 2"
  (simonw/s3-credentials#64); DeleteConflict "must delete login profile first."
  (hashicorp/terraform#8621, cloud-custodian#1663), "access keys first."
  (aws-controllers-k8s/community#2229), "MFA device first." (rebuy-de/aws-nuke#281),
  "certificates first." (aws-nuke#671), "remove referenced objects first."
  (aws-nuke#470, SSH keys), "remove users from group first." (userplex#17),
  "detach all policies first." (terraform#9900); "The user policy with name X
  cannot be found." (lucidsoftware/cumulus#71); "Policy ARN does not exist or is
  not attachable." 404 (pulumi/pulumi#7419, getmoto/moto#6482); "Login Profile for
  User X cannot be found." (ansible/ansible#43197); AccessDenied shape
  (BD2KGenomics/cgcloud#216); Throttling 400 "Rate exceeded" (nccgroup/Scout2#17);
  SignatureDoesNotMatch "Credential should be scoped to a valid region, not 'R'. "
  (rusoto/rusoto#1870, an IAM capture); "Signature expired: A is now earlier than
  B (C - 15 min.)" as SignatureDoesNotMatch from a query API (aws/aws-cli#6676,
  STS; IAM uses the same front end: an assumption); MissingAuthenticationToken
  "Request is missing Authentication Token" 403 (cert-manager/aws-privateca-issuer#40,
  STS); InvalidAction "Could not find operation X for version V" with the
  AWSFault namespace (django-ses/django-ses#158, SES query API); ValidationError
  "1 validation error detected: Value at 'roleName' failed to satisfy constraint:
  Member must have length less than or equal to 64" (aws/eks-hybrid#113; older
  captures legion-platform/legion#530 echo the value, current IAM does not);
  "Invalid Marker." ValidationError (trek10inc/awsets#21 names it; wording from
  emulators).  Marked "UNSURE" in the code where no capture was found.
"""

import base64
import copy
import fnmatch
import hashlib
import json
import os
import re
import threading
import time
import urllib.parse

from . import policy
from .faults import FaultsMixin
from .iam_dependents import DependentsMixin
from .jsonproto import JSONServicesMixin
from .protocol import (API_VERSION, AWSFAULT_NS, IAMError, _Ctx, error_xml,
                       iam_pattern_error, members, no_such_user, parse_args,
                       parse_time, service_model, success_xml, validation)
from .secretsmanager import SecretsManagerMixin
from .server import ServerMixin
from .sigcheck import SigCheckMixin
from .ssm import SSMMixin
from .state import (B64, DEFAULT_ACCOUNT_ID, PARTITION_REGION, StateMixin,
                    _blank_state, _Rng)
from .sts import DEFAULT_CALLERS, STS_API_VERSION, STSMixin

MARKER_MAGIC = b"\xfb\xff\xbf"      # base64 "+/+/": markers always need %-encoding
MUTATING_PREFIXES = ("Create", "Delete", "Put", "Update", "Attach", "Detach", "Tag",
                     "Untag", "Add", "Remove", "Upload", "Enable", "Deactivate")


class FakeIAM(ServerMixin, FaultsMixin, SigCheckMixin, STSMixin, StateMixin,
              DependentsMixin, JSONServicesMixin, SecretsManagerMixin, SSMMixin):
    """The IAM stand-in.  See the module docstring."""

    def __init__(self, tls=True, host="127.0.0.1", port=0, cert_dir=None,
                 account_id=DEFAULT_ACCOUNT_ID, partition="aws", callers=None,
                 now=None, skew_check=True, max_skew=900, seed=None, state=None,
                 state_file=None, page_cap=None, track_last_used=True,
                 idle_timeout=60, verbose=False, latency=0.0):
        self.tls = tls
        self.host = host
        self._port = port
        self._cert_dir_arg = cert_dir
        self.cert_dir = None
        self.ca_file = None
        self.account_id = account_id
        self.partition = partition
        self.signing_region = PARTITION_REGION.get(partition, "us-east-1")
        self.skew_check = skew_check
        self.max_skew = max_skew
        self.page_cap = page_cap
        self.track_last_used = track_last_used
        self.idle_timeout = idle_timeout
        self.verbose = verbose
        self.latency = float(latency or 0.0)    # seconds added to every IAM answer
        self._persist_lock = threading.Lock()   # one state-file writer at a time
        self.state_file = state_file
        self._rng = _Rng(seed)
        self._lock = threading.RLock()          # state
        self._meta = threading.Lock()           # log, faults, counters
        self._fixed_now = parse_time(now) if now is not None else None
        self._offset = 0.0
        self._requests = []
        self._faults = []
        self._fault_seq = 0
        self._seq = 0
        self._conn_seq = 0
        self.connections_accepted = 0
        self.tls_handshakes = 0
        self.tls_resumed = 0
        self._open = {}
        self._server = None
        self._thread = None
        self._ssl_ctx = None
        self._tmp_cert_dir = None
        self._model = service_model("iam")

        self._state = _blank_state(account_id, partition)
        self._callers_cfg = []
        if state is not None:
            self.load_state(state)
        elif state_file and os.path.exists(state_file):
            self.load_state(state_file)
        specs = DEFAULT_CALLERS if callers is None else callers
        for spec in specs:
            self.add_caller(spec)
        self._initial = copy.deepcopy(self._state)

    # ---------------------------------------------------------------- process
    def _process(self, h, rec, params, action, query, body, request_id):
        """Route, authenticate, validate, authorize, run.  -> (status, body, err)."""
        if rec.get("protocol") == "json":
            return self._process_json(h, rec, action, query, body, request_id)
        if params.get("Version") == STS_API_VERSION:
            return self._process_sts(h, rec, params, action, query, body, request_id)
        try:
            if not action:
                # UNSURE: wording; the AWS CommonErrors pages list MissingAction 400.
                raise IAMError("MissingAction", "Missing Action", 400)
            version = params.get("Version")
            ops = self._model.operation_names
            if action not in ops or version != API_VERSION:
                raise IAMError("InvalidAction",
                               f"Could not find operation {action} for version "
                               f"{version or 'NO_VERSION_SPECIFIED'}", 400, ns=AWSFAULT_NS)
            caller = self._authenticate(h, rec, query, body)
            handler = getattr(self, "_op_" + action, None)
            if handler is None:
                raise IAMError("FakeIAMNotImplemented",
                               f"The IAM stand-in does not implement {action}.", 501)
            args = parse_args(self._model.operation_model(action), params,
                              iam_pattern_error)
            ctx = _Ctx(action, args, caller, request_id)
            with self._lock:
                self._authorize(ctx)
                result = handler(ctx)
                mutated = action.startswith(MUTATING_PREFIXES)
            if mutated:
                self._persist()
            rec["applied"] = True
            return 200, success_xml(action, result, request_id), None
        except IAMError as e:
            return e.status, error_xml(e, request_id), e

    # -------------------------------------------------------------- authorize
    # Two ways to limit a caller: a deny list of action patterns (deny(),
    # the readonly caller), checked first; and, for an IAM user made with
    # caller_with_policy() (or any user with "authorize_by_policies"), its
    # identity-based policies, evaluated as IAM does (policy.py): the
    # inline ones and the attached managed ones that have a document.
    def _authorize(self, ctx):
        patterns = self._state["denies"].get(ctx.caller.access_key_id) or []
        target = "iam:" + ctx.action
        for p in patterns:
            p = p if ":" in p else "iam:" + p
            if fnmatch.fnmatchcase(target, p):
                raise IAMError("AccessDenied",
                               f"User: {ctx.caller.arn} is not authorized to perform: "
                               f"{target} on resource: {self._resource(ctx)}", 403)
        for action, arn, text in self._requested(ctx):
            self._check_policies(ctx.caller, action, arn, text)

    def _check_policies(self, caller, action, arn, text):
        """AccessDenied unless the caller's policies allow `action` on `arn`
        (a caller whose policies do not apply may do anything)."""
        docs = self._caller_policies(caller)
        if docs is None:
            return
        try:
            verdict = policy.evaluate(docs, action, arn)
        except policy.Unsupported as e:
            raise IAMError("FakeIAMNotImplemented", str(e), 501)
        if verdict != "allow":
            raise IAMError("AccessDenied",
                           policy.denial_message(caller.arn, action, text, verdict), 403)

    def _caller_policies(self, caller):
        """The policy documents of the caller, or None when the stand-in
        does not evaluate policies for it."""
        if caller.kind != "user":
            return None
        u = self._find_user(caller.name)
        if u is None or not u.get("authorize_by_policies"):
            return None
        docs = [p["document"] for p in u["inline_policies"]]
        for arn in u["attached_policies"]:
            p = next((x for x in self._state["managed_policies"] if x["arn"] == arn), None)
            if p and p.get("document"):
                docs.append(p["document"])
        return docs

    def _requested(self, ctx):
        """What the request asks IAM to authorize: [(action, resource ARN
        or "*", the resource as the message names it)].  The resource is
        the one the Service Authorization Reference gives the action:
        the user (its ARN with its path) for the user actions, the group
        for group membership, the device for DeleteVirtualMFADevice, none
        ("*") for ListUsers.  CreateUser with Tags needs iam:TagUser on
        the new user too (the IAM User Guide's "Create new users only with
        specific tags" grants both)."""
        a, act = ctx.params, ctx.action
        if act in ("ListUsers",):
            prefix = a.get("PathPrefix", "/")
            return [("iam:" + act, "*",
                     f"arn:{self.partition}:iam::{self.account_id}:user{prefix}")]
        if act == "CreateUser":
            arn = self._user_arn(name=a["UserName"], path=a.get("Path", "/"))
            out = [("iam:CreateUser", arn, arn)]
            if a.get("Tags"):
                out.append(("iam:TagUser", arn, arn))
            return out
        if act == "GetAccessKeyLastUsed":
            found = self._find_key(a["AccessKeyId"])
            if not found:
                return [("iam:" + act, "*", f"access key {a['AccessKeyId']}")]
            arn = self._user_arn(found[0])
            return [("iam:" + act, arn, arn)]
        if act in ("CreateGroup", "AddUserToGroup", "RemoveUserFromGroup",
                   "CreateVirtualMFADevice", "DeleteVirtualMFADevice"):
            arn = self._resource(ctx)
            return [("iam:" + act, arn, arn)]
        name = a.get("UserName")
        if name is None:
            return [("iam:" + act, ctx.caller.arn, ctx.caller.arn)]
        u = self._find_user(name)
        if u is not None:
            arn = self._user_arn(u)
            return [("iam:" + act, arn, arn)]
        # UNSURE: IAM cannot know the path of a user that does not exist.
        # Its messages then name "user NAME" (captures in hashicorp/
        # boundary#3877, aws-samples/rancher-on-aws-workshop#28), and a
        # policy scoped to a path does not let the caller see that the
        # user is missing (cloud-gov/terraform-provision#1923): it is
        # evaluated here as arn:...:user/NAME.
        return [("iam:" + act, self._user_arn(name=name), f"user {name}")]

    def _resource(self, ctx):
        a = ctx.params
        if ctx.action == "CreateUser":
            return self._user_arn(name=a["UserName"], path=a.get("Path", "/"))
        if ctx.action in ("ListUsers",):
            return f"arn:{self.partition}:iam::{self.account_id}:user/"
        if ctx.action in ("CreateGroup", "AddUserToGroup", "RemoveUserFromGroup"):
            g = self._find_group(a["GroupName"])
            return (self._group_arn(g) if g else
                    f"arn:{self.partition}:iam::{self.account_id}:group{a.get('Path', '/')}"
                    f"{a['GroupName']}")
        if ctx.action in ("CreateVirtualMFADevice",):
            return (f"arn:{self.partition}:iam::{self.account_id}:mfa{a.get('Path', '/')}"
                    f"{a['VirtualMFADeviceName']}")
        if ctx.action == "DeleteVirtualMFADevice":
            return a["SerialNumber"]
        if ctx.action == "GetAccessKeyLastUsed":
            found = self._find_key(a["AccessKeyId"])
            return self._user_arn(found[0]) if found else f"access key {a['AccessKeyId']}"
        name = a.get("UserName")
        if name is None:
            if ctx.caller.kind == "user":
                name = ctx.caller.name
            else:
                return ctx.caller.arn
        u = self._find_user(name)
        return self._user_arn(u) if u else self._user_arn(name=name)

    # ------------------------------------------------------------- op helpers
    def _target_user(self, ctx, required_msg=True):
        """UserName, or the calling IAM user when it is omitted."""
        name = ctx.params.get("UserName")
        if name is None:
            if ctx.caller.kind == "root":
                raise IAMError("FakeIAMNotImplemented", "The IAM stand-in does not model "
                               "the root user's own credentials; pass UserName.", 501)
            if ctx.caller.kind != "user":
                raise validation("Must specify userName when calling with non-User credentials")
            name = ctx.caller.name
        u = self._find_user(name)
        if u is None:
            raise no_such_user(name)
        return u

    def _user_xml(self, u, full=True, id_first=False):
        # Element order as in the API Reference examples: CreateUser has Path first,
        # GetUser and ListUsers have UserId first.
        out = [("Path", u["path"]), ("UserName", u["name"]), ("UserId", u["user_id"]),
               ("Arn", self._user_arn(u)), ("CreateDate", u["create_date"]),
               ("PasswordLastUsed", u.get("password_last_used"))]
        if id_first:
            out.insert(0, out.pop(2))
        if full:
            pb = u.get("permissions_boundary")
            if pb:
                out.append(("PermissionsBoundary", [
                    ("PermissionsBoundaryType", "Policy"),
                    ("PermissionsBoundaryArn", pb)]))
            if u["tags"]:
                out.append(("Tags", members(self._tags_xml(u["tags"]))))
        return out

    @staticmethod
    def _tags_xml(tags):
        return [[("Key", t["Key"]), ("Value", t["Value"])] for t in tags]

    def _check_tags(self, tags):
        seen = set()
        for t in tags:
            if t.get("Key") is None or t.get("Value") is None:
                # The model marks Key and Value required; Coral reports them.
                continue
            k = t["Key"].lower()
            if k in seen:
                raise IAMError("InvalidInput", "Duplicate tag keys found. Please note "
                               "that Tag keys are case insensitive.", 400)
            seen.add(k)

    def _paginate(self, ctx, items, key_fn, scope=""):
        """IAM Marker/MaxItems paging -> (page, [IsTruncated, Marker] elements)."""
        a = ctx.params
        max_items = a.get("MaxItems", 100)
        if self.page_cap:
            max_items = min(max_items, self.page_cap)
        items = sorted(items, key=key_fn)
        scope_id = hashlib.sha256(f"{ctx.action}\0{scope}".encode()).hexdigest()[:12]
        if "Marker" in a:
            try:
                raw = base64.b64decode(a["Marker"], validate=True)
                if not raw.startswith(MARKER_MAGIC):
                    raise ValueError
                m = json.loads(raw[len(MARKER_MAGIC):])
                if m["s"] != scope_id:
                    raise ValueError
                after = m["k"]
            except (ValueError, KeyError, TypeError):
                raise validation("Invalid Marker.")
            items = [it for it in items if _jsonable(key_fn(it)) > after]
        page, rest = items[:max_items], items[max_items:]
        tail = [("IsTruncated", bool(rest))]
        if rest:
            blob = json.dumps({"s": scope_id, "k": _jsonable(key_fn(page[-1]))},
                              separators=(",", ":")).encode()
            tail.append(("Marker", base64.b64encode(MARKER_MAGIC + blob).decode()))
        return page, tail

    # ----------------------------------------------------------------- users
    def _op_CreateUser(self, ctx):
        a = ctx.params
        name, path = a["UserName"], a.get("Path", "/")
        tags = a.get("Tags") or []
        self._check_tags(tags)
        if self._find_user(name):
            raise IAMError("EntityAlreadyExists", f"User with name {name} already exists.", 409)
        pb = a.get("PermissionsBoundary")
        if pb is not None and not self._policy(pb):
            # UNSURE: wording.
            raise IAMError("NoSuchEntity",
                           f"Scope ARN: {pb} does not exist or is not attachable.", 404)
        u = self._new_user(name, path, [{"Key": t["Key"], "Value": t["Value"]} for t in tags])
        u["permissions_boundary"] = pb
        return [("User", self._user_xml(u))]

    def _op_GetUser(self, ctx):
        if ctx.params.get("UserName") is None and ctx.caller.kind == "root":
            # [FIX] responses/iam-get-user.xml: root has no Path or UserName.
            return [("User", [("UserId", self.account_id), ("Arn", ctx.caller.arn),
                              ("CreateDate", self._state["account_create_date"])])]
        u = self._target_user(ctx)
        return [("User", self._user_xml(u, id_first=True))]

    def _op_ListUsers(self, ctx):
        prefix = ctx.params.get("PathPrefix", "/")
        users = [u for u in self._users() if u["path"].startswith(prefix)]
        page, tail = self._paginate(ctx, users, lambda u: (u["name"].lower(), u["name"]),
                                    prefix)
        return [("Users", members([self._user_xml(u, full=False, id_first=True)
                                   for u in page]))] + tail

    def _op_DeleteUser(self, ctx):
        u = self._target_user(ctx)
        name = u["name"]
        in_group = any(name in g["members"] for g in self._state["groups"])
        # Order between kinds: login profile, keys, MFA from terraform#8621; the rest
        # is UNSURE.
        checks = [
            (u["login_profile"], "must delete login profile first."),
            (u["access_keys"], "must delete access keys first."),
            (u["signing_certificates"], "must delete certificates first."),
            (u["mfa_devices"], "must delete MFA device first."),
            (u["ssh_public_keys"], "must remove referenced objects first."),
            (u["service_specific_credentials"], "must remove referenced objects first."),
            (u["inline_policies"], "must delete policies first."),
            (u["attached_policies"], "must detach all policies first."),
            (in_group, "must remove users from group first."),
        ]
        for present, msg in checks:
            if present:
                raise IAMError("DeleteConflict", "Cannot delete entity, " + msg, 409)
        self._state["users"].remove(u)
        for v in self._state["virtual_mfa_devices"]:
            if v.get("user") == name:
                v["user"] = None
        return None

    def _op_TagUser(self, ctx):
        u = self._target_user(ctx)
        tags = ctx.params["Tags"]
        self._check_tags(tags)
        merged = list(u["tags"])
        for t in tags:
            merged = [x for x in merged if x["Key"].lower() != t["Key"].lower()]
            merged.append({"Key": t["Key"], "Value": t["Value"]})
        if len(merged) > 50:
            # UNSURE: wording.
            raise IAMError("LimitExceeded", "Cannot exceed quota for TagsPerUser: 50", 409)
        u["tags"] = merged
        return None

    def _op_UntagUser(self, ctx):
        u = self._target_user(ctx)
        drop = {k.lower() for k in ctx.params["TagKeys"]}
        u["tags"] = [t for t in u["tags"] if t["Key"].lower() not in drop]
        return None

    def _op_ListUserTags(self, ctx):
        u = self._target_user(ctx)
        order = {id(t): i for i, t in enumerate(u["tags"])}
        page, tail = self._paginate(ctx, u["tags"], lambda t: (order[id(t)], t["Key"]),
                                    u["name"])
        return [("Tags", members(self._tags_xml(page)))] + tail

    # -------------------------------------------------------- inline policies
    def _op_PutUserPolicy(self, ctx):
        a = ctx.params
        u = self._target_user(ctx)
        doc = a["PolicyDocument"]
        check_policy_document(doc)
        others = [p for p in u["inline_policies"] if p["name"] != a["PolicyName"]]
        size = sum(len(re.sub(r"\s", "", p["document"])) for p in others)
        size += len(re.sub(r"\s", "", doc))
        if size > 2048:
            # UNSURE: wording (the 2,048-character aggregate quota is documented).
            raise IAMError("LimitExceeded", "Maximum policy size of 2048 bytes exceeded "
                           f"for user {u['name']}", 409)
        for p in u["inline_policies"]:
            if p["name"] == a["PolicyName"]:
                p["document"] = doc
                break
        else:
            u["inline_policies"].append({"name": a["PolicyName"], "document": doc})
        return None

    def _inline(self, u, name):
        for p in u["inline_policies"]:
            if p["name"] == name:
                return p
        raise IAMError("NoSuchEntity",
                       f"The user policy with name {name} cannot be found.", 404)

    def _op_GetUserPolicy(self, ctx):
        u = self._target_user(ctx)
        p = self._inline(u, ctx.params["PolicyName"])
        # "Policies returned by this operation are URL-encoded compliant with
        # RFC 3986" [DOC], as in the [FIX] capture.
        return [("UserName", u["name"]), ("PolicyName", p["name"]),
                ("PolicyDocument", urllib.parse.quote(p["document"], safe="-_.~"))]

    def _op_ListUserPolicies(self, ctx):
        u = self._target_user(ctx)
        page, tail = self._paginate(ctx, [p["name"] for p in u["inline_policies"]],
                                    lambda n: n, u["name"])
        return [("PolicyNames", members(page))] + tail

    def _op_DeleteUserPolicy(self, ctx):
        u = self._target_user(ctx)
        p = self._inline(u, ctx.params["PolicyName"])
        u["inline_policies"].remove(p)
        return None

    # ------------------------------------------------------- managed policies
    def _policy(self, arn):
        for p in self._state["managed_policies"]:
            if p["arn"] == arn and p.get("attachable", True):
                return p
        return None

    def _check_policy_arn(self, arn):
        if not re.fullmatch(r"arn:[\w-]+:iam::(aws|\d{12}):policy/[\w+=,.@/-]+", arn):
            # UNSURE: wording.
            raise IAMError("InvalidInput", f"ARN {arn} is not valid.", 400)

    def _op_AttachUserPolicy(self, ctx):
        arn = ctx.params["PolicyArn"]
        u = self._target_user(ctx)
        self._check_policy_arn(arn)
        if not self._policy(arn):
            raise IAMError("NoSuchEntity",
                           f"Policy {arn} does not exist or is not attachable.", 404)
        if arn not in u["attached_policies"]:
            if len(u["attached_policies"]) >= 10:
                raise IAMError("LimitExceeded",
                               "Cannot exceed quota for PoliciesPerUser: 10", 409)
            u["attached_policies"].append(arn)
        return None

    def _op_DetachUserPolicy(self, ctx):
        arn = ctx.params["PolicyArn"]
        u = self._target_user(ctx)
        self._check_policy_arn(arn)
        if arn not in u["attached_policies"]:
            # moto's wording, UNSURE.
            raise IAMError("NoSuchEntity", f"Policy {arn} was not found.", 404)
        u["attached_policies"].remove(arn)
        return None

    def _op_ListAttachedUserPolicies(self, ctx):
        u = self._target_user(ctx)
        prefix = ctx.params.get("PathPrefix", "/")
        pols = []
        for arn in u["attached_policies"]:
            p = next((x for x in self._state["managed_policies"] if x["arn"] == arn), None)
            path = p["path"] if p else "/"
            if path.startswith(prefix):
                pols.append((arn.rsplit("/", 1)[-1], arn))
        page, tail = self._paginate(ctx, pols, lambda p: (p[0], p[1]), u["name"] + prefix)
        return [("AttachedPolicies", members(
            [[("PolicyName", n), ("PolicyArn", arn)] for n, arn in page]))] + tail

    # ------------------------------------------------------------ access keys
    def _user_key(self, u, akid):
        for k in u["access_keys"]:
            if k["access_key_id"] == akid:
                return k
        raise IAMError("NoSuchEntity", f"The Access Key with id {akid} cannot be found.", 404)

    def _op_CreateAccessKey(self, ctx):
        u = self._target_user(ctx)
        if len(u["access_keys"]) >= 2:
            raise IAMError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
        k = {"access_key_id": self._new_akid(),
             "secret_access_key": self._rng.chars(B64, 40), "status": "Active",
             "create_date": self._now_iso(), "last_used": None, "seq": self._next_seq(),
             "created_mono": time.monotonic()}       # fake_ses_smtp's propagation delay
        u["access_keys"].append(k)
        return [("AccessKey", [("UserName", u["name"]), ("AccessKeyId", k["access_key_id"]),
                               ("Status", k["status"]),
                               ("SecretAccessKey", k["secret_access_key"]),
                               ("CreateDate", k["create_date"])])]

    def _op_ListAccessKeys(self, ctx):
        u = self._target_user(ctx)
        page, tail = self._paginate(ctx, u["access_keys"],
                                    lambda k: (k["create_date"], k.get("seq", 0), k["access_key_id"]),
                                    u["name"])
        # [DOC] ListAccessKeys example carries UserName in the result (not in the model).
        return [("UserName", u["name"]), ("AccessKeyMetadata", members([
            [("UserName", u["name"]), ("AccessKeyId", k["access_key_id"]),
             ("Status", k["status"]), ("CreateDate", k["create_date"])] for k in page]))] + tail

    def _op_UpdateAccessKey(self, ctx):
        u = self._target_user(ctx)
        k = self._user_key(u, ctx.params["AccessKeyId"])
        k["status"] = ctx.params["Status"]
        return None

    def _op_DeleteAccessKey(self, ctx):
        u = self._target_user(ctx)
        k = self._user_key(u, ctx.params["AccessKeyId"])
        u["access_keys"].remove(k)
        return None

    def _op_GetAccessKeyLastUsed(self, ctx):
        akid = ctx.params["AccessKeyId"]
        found = self._find_key(akid)
        if not found:
            # UNSURE: IAM answers AccessDenied for keys it cannot attribute to the
            # caller's account (no capture seen; moto answers NoSuchEntity).
            raise IAMError("AccessDenied", f"User: {ctx.caller.arn} is not authorized "
                           f"to perform: iam:GetAccessKeyLastUsed on resource: access key "
                           f"{akid}", 403)
        u, k = found
        lu = k.get("last_used") or {}
        # Order as in the API Reference example.
        used = [("Region", lu.get("region") or "N/A"), ("LastUsedDate", lu.get("date")),
                ("ServiceName", lu.get("service") or "N/A")]
        return [("AccessKeyLastUsed", used), ("UserName", u["name"])]


def _jsonable(key):
    return json.loads(json.dumps(key))


def check_policy_document(doc):
    """The checks IAM makes before storing an inline policy (MalformedPolicyDocument)."""
    def bad(msg):
        return IAMError("MalformedPolicyDocument", msg, 400)
    try:
        pol = json.loads(doc)
    except ValueError:
        raise bad("Syntax errors in policy.")
    if not isinstance(pol, dict):
        raise bad("Syntax errors in policy.")
    version = pol.get("Version")
    if version is not None and version not in ("2012-10-17", "2008-10-17"):
        raise bad("The policy failed legacy parsing")
    stmts = pol.get("Statement")
    if stmts is None:
        raise bad("Missing required field Statement")
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list) or not stmts:
        raise bad("Syntax errors in policy.")
    for s in stmts:
        if not isinstance(s, dict):
            raise bad("Syntax errors in policy.")
        if "Principal" in s or "NotPrincipal" in s:
            raise bad("Policy document should not specify a principal.")
        if s.get("Effect") not in ("Allow", "Deny"):
            raise bad("Missing required field Effect" if "Effect" not in s
                      else f"Invalid effect: {s.get('Effect')}")
        if "Action" not in s and "NotAction" not in s:
            raise bad("Policy statement must contain actions.")
        if "Resource" not in s and "NotResource" not in s:
            raise bad("Policy statement must contain resources.")
