#!/usr/bin/python3
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
name.  User keys are stored on the user (ListAccessKeys shows them) and any key
made by CreateAccessKey can sign requests too; an Inactive or deleted key gets
InvalidClientTokenId, exactly like IAM.

State and seeding
-----------------
    iam.dump_state() -> dict (JSON-able; includes secrets: the SMTP stand-in reads
                        users[].access_keys[] from it)
    iam.load_state(dict_or_path), iam.save_state(path)
    iam.reset()       -> back to the state at start(); also clears faults and the log
    iam.user(name), iam.access_key(akid)           -> dict copies
    iam.seed_user(name, path="/", tags=None, access_keys=0, inline_policies=None,
                  attached_policies=(), groups=(), login_profile=False,
                  signing_certificates=0, ssh_public_keys=0,
                  service_specific_credentials=0, mfa_devices=0,
                  virtual_mfa_devices=0, create_date=None) -> user dict
                  (access_keys may also be a list of {access_key_id,
                  secret_access_key, status, create_date})
    iam.set_access_key(akid, status=..., create_date=..., last_used=None |
                       {"date": iso, "service": "ses", "region": "eu-west-1"})
    iam.add_managed_policy(arn_or_name, path="/", attachable=True)
    iam.add_caller(dict_or_spec), iam.deny(akid, patterns)
Pre-seeded AWS managed policies: AdministratorAccess, AmazonSESFullAccess,
AmazonSESReadOnlyAccess, IAMReadOnlyAccess, IAMUserChangePassword,
ReadOnlyAccess (arn:aws:iam::aws:policy/<name>).

Time and clock skew
-------------------
    iam.now() -> aware UTC datetime;  iam.set_now(dt_or_iso_or_None) pins/unpins;
    iam.advance(seconds) moves a pinned clock (or shifts the real one);
    iam.skew_check = False disables the 15-minute check; iam.max_skew = 900.
CreateDate and the skew check both use this clock, so pin it to the client's
SESCTL_TEST_NOW for golden tests.

Faults
------
    fid = iam.add_fault(kind, action=None, nth=1, times=1, **params)
    iam.clear_faults(); iam.faults -> list of dicts (with "fired" counts)
`action` None matches any IAM request.  Counting starts when the fault is added:
the fault fires on the nth matching request and on the following times-1 ones
(times=None: forever).  So add_fault("service_failure", "CreateAccessKey", nth=2)
is "the 2nd CreateAccessKey", add_fault("throttling", times=3) is "the next 3
requests".  Kinds (default "applied?" in brackets; params in parentheses):
    service_failure       [no]  500 ServiceFailure (Type Receiver)
    internal_failure      [no]  500 InternalFailure
    service_unavailable   [no]  503 ServiceUnavailable
    throttling            [no]  400 Throttling "Rate exceeded"
    request_expired       [no]  400 RequestExpired
    signature_expired     [no]  403 SignatureDoesNotMatch "Signature expired: ..."
    error                 [no]  any error (status, code, message, type)
    html_error            [no]  a proxy/load balancer HTML page (status=502)
    close_before          [no]  read the request, close without answering
    reset_before          [no]  same, with a TCP RST
    close_after           [yes] apply the request, close without answering
    malformed_xml         [yes] 200 (or the real status) with broken XML
    truncated_xml         [yes] Content-Length says more than is sent, then close
    slow                  [yes] answer after sleeping (delay=seconds; before=True
                                sleeps before applying)
Every kind but slow takes apply=True/False to override the default (for example
service_failure with apply=True is "IAM did it and then said 500";
close_before with apply=True is close_after).  Error kinds take message=...
The request log shows fault and applied for each request.  Faults fire before
authentication, so they also hit requests that would have failed it.

Request log and connections
---------------------------
    iam.requests -> list of dicts: seq, conn (connection id), time, method, path,
        query, headers ([name, value] pairs as received, Authorization included),
        body, params, action, status, error_code, request_id, fault, applied,
        caller (access key id) and sigv4 ({canonical_request, string_to_sign,
        expected_signature, provided_signature, ok}) when a signature was checked,
        response (body text), received_at / answered_at (time.time() when the
        request had been read / just before its answer went out, or when the
        connection was dropped; None until then: a request the client sent after
        reading an answer always has received_at > that answer's answered_at,
        so overlapping intervals mean requests in flight together), latency
        (seconds added to this answer)
    iam.clear_requests()
    iam.connections_accepted   TCP connections accepted
    iam.tls_handshakes         TLS handshakes completed (== accepted in HTTP mode)
    iam.iam_connection_ids()   distinct conn ids that carried IAM requests
Control requests (below) are not in iam.requests.

Control endpoint (for a stand-in in another process)
----------------------------------------------------
No IAM request uses the path prefix /__fake__/; these take and return JSON and
need no signature:
    GET  /__fake__/info               same JSON as the CLI prints
    GET  /__fake__/requests           {"requests": [...]};  DELETE clears
    GET  /__fake__/connections        {"accepted", "tls_handshakes", "iam_connection_ids"}
    GET  /__fake__/faults             POST {kind, action, nth, times, ...} or a list
                                      -> {"ids": [...]};  DELETE clears
    GET  /__fake__/state              PUT replaces it
    POST /__fake__/reset
    GET  /__fake__/clock              PUT {"now": iso|null, "advance": s,
                                           "skew_check": bool, "max_skew": s}
    GET  /__fake__/latency            PUT {"latency": s}  -> {"latency": s}
    POST /__fake__/seed-user          {name, path, tags: {k: v}, ...seed_user kwargs}
    POST /__fake__/callers            a caller dict
    POST /__fake__/access-keys/AKID   {status, create_date, last_used}
    POST /__fake__/managed-policies   {arn, path, attachable}

Command line
------------
    /usr/bin/python3 tests/standins/iam.py --port 0 --cert-dir DIR \
        [--http] [--state FILE] [--caller AKID:SECRET[:TOKEN]]... [--now ISO] \
        [--no-skew-check] [--seed N] [--account-id ID] [--page-cap N] \
        [--latency SECONDS] [--verbose]
prints one JSON line {"url", "control_url", "ca_file", "tls", "host", "port",
"account_id", "signing_region", "callers": [...], "pid"} and serves until SIGTERM
or SIGINT.  --state FILE loads FILE if it exists and keeps it up to date.

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

import argparse
import base64
import copy
import datetime
import email.utils
import fnmatch
import hashlib
import hmac
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import ssl
import string
import struct
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
import uuid
from xml.sax.saxutils import escape as _xml_escape

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from standins import tls as tlsutil  # noqa: E402

NS = "https://iam.amazonaws.com/doc/2010-05-08/"
# InvalidAction comes back in this namespace from the query front end
# (django-ses#158 capture, SES).  UNSURE for IAM itself.
AWSFAULT_NS = "http://webservices.amazon.com/AWSFault/2005-15-09"
API_VERSION = "2010-05-08"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_API_VERSION = "2011-06-15"
CONTROL_PREFIX = "/__fake__/"
SIGV4_FMT = "%Y%m%dT%H%M%SZ"
ISO_FMT = "%Y-%m-%dT%H:%M:%SZ"

DEFAULT_ACCOUNT_ID = "123456789012"
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
AWS_MANAGED_POLICIES = ["AdministratorAccess", "AmazonSESFullAccess",
                        "AmazonSESReadOnlyAccess", "IAMReadOnlyAccess",
                        "IAMUserChangePassword", "ReadOnlyAccess"]
PARTITION_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1",
                    "aws-us-gov": "us-gov-west-1"}
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = string.ascii_letters + string.digits + "+/"
MARKER_MAGIC = b"\xfb\xff\xbf"      # base64 "+/+/": markers always need %-encoding

HTTP_REASONS = http.server.BaseHTTPRequestHandler.responses

_model_lock = threading.Lock()
_model = None


def iam_model():
    """botocore's IAM service model (python3-botocore), loaded once."""
    global _model
    with _model_lock:
        if _model is None:
            _model = botocore.session.get_session().get_service_model("iam")
        return _model


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


def invalid_client_token():
    return IAMError("InvalidClientTokenId",
                    "The security token included in the request is invalid.", 403)


def signature_mismatch(msg=None):
    return IAMError("SignatureDoesNotMatch", msg or (
        "The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method. Consult "
        "the service documentation for details."), 403)


def incomplete_signature(msg):
    return IAMError("IncompleteSignature", msg, 400)


# --------------------------------------------------------------------------
# small helpers

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


class _Rng:
    """Random ids; deterministic with a seed."""

    def __init__(self, seed=None):
        self._r = random.Random(seed) if seed is not None else random.SystemRandom()
        self._lock = threading.Lock()

    def chars(self, alphabet, n):
        with self._lock:
            return "".join(self._r.choice(alphabet) for _ in range(n))

    def uuid(self):
        with self._lock:
            return str(uuid.UUID(int=self._r.getrandbits(128), version=4))

    def bytes(self, n):
        with self._lock:
            return bytes(self._r.getrandbits(8) for _ in range(n))


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


def success_xml(action, result, request_id):
    """<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>..."""
    body = []
    if result is not None:
        body.append((f"{action}Result", result))
    body.append(("ResponseMetadata", [("RequestId", request_id)]))
    out = [f'<{action}Response xmlns="{NS}">']
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
# state

def _blank_state(account_id, partition):
    return {
        "version": 1,
        "account_id": account_id,
        "partition": partition,
        "account_create_date": "2015-01-01T00:00:00Z",
        "users": [],
        "groups": [],
        "managed_policies": [
            {"arn": f"arn:{partition}:iam::aws:policy/{n}", "name": n, "path": "/",
             "policy_id": None, "attachable": True} for n in AWS_MANAGED_POLICIES],
        "virtual_mfa_devices": [],
        "roles": [],
        "callers": [],
        "denies": {},
    }


class _Ctx:
    """Everything one IAM request carries through the handlers."""

    def __init__(self, action, params, caller, request_id):
        self.action, self.params, self.caller, self.request_id = action, params, caller, request_id


class Caller:
    def __init__(self, akid, secret, token, kind, name, arn, expired=False):
        self.access_key_id, self.secret, self.token = akid, secret, token
        self.kind, self.name, self.arn, self.expired = kind, name, arn, expired


# --------------------------------------------------------------------------
# the server

class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, fake):
        self.fake = fake
        super().__init__(addr, _Handler)

    def process_request_thread(self, request, client_address):
        fake = self.fake
        conn_id = fake._new_connection()
        try:
            # An answer goes out in two writes (headers, then body): without
            # TCP_NODELAY, Nagle holds the body until the client's delayed
            # ACK, 40 ms per request, which is not IAM's behaviour.
            try:
                request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            if fake._ssl_ctx is not None:
                request.settimeout(30)
                try:
                    request = fake._ssl_ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    fake._log(f"conn {conn_id}: TLS handshake failed: {e}")
                    try:
                        request.close()
                    except OSError:
                        pass
                    return
            fake._handshake_done(conn_id, request)
            _tls.conn_id = conn_id
            self.finish_request(request, client_address)
        except Exception as e:  # connection-level trouble only
            fake._log(f"conn {conn_id}: {e!r}")
        finally:
            fake._connection_closed(conn_id)
            try:
                self.shutdown_request(request)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


_tls = threading.local()


class _Abort(Exception):
    """Stop handling this connection (the socket was closed on purpose)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.timeout = self.server.fake.idle_timeout
        super().setup()
        self.conn_id = getattr(_tls, "conn_id", 0)

    def log_message(self, fmt, *args):
        self.server.fake._log(f"conn {self.conn_id}: " + (fmt % args))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            self.close_connection = True

    def _dispatch(self):
        body = self._read_body()
        if body is None:
            return
        self.server.fake._handle_http(self, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _dispatch

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    return None
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        data = self.rfile.read(n) if n > 0 else b""
        if len(data) < n:
            self.close_connection = True
            return None
        return data

    def send_raw(self, status, headers, body, content_length=None, truncate_to=None):
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if content_length is None
                                               else content_length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body if truncate_to is None else body[:truncate_to])
        self.wfile.flush()

    def abort(self, rst=False):
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                raw = self.connection
                raw.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True
        raise _Abort()


# --------------------------------------------------------------------------

FAULT_KINDS = {
    # kind: (applies by default, status)
    "service_failure": (False, 500),
    "internal_failure": (False, 500),
    "service_unavailable": (False, 503),
    "throttling": (False, 400),
    "request_expired": (False, 400),
    "signature_expired": (False, 403),
    "error": (False, 400),
    "html_error": (False, 502),
    "close_before": (False, None),
    "reset_before": (False, None),
    "close_after": (True, None),
    "malformed_xml": (True, None),
    "truncated_xml": (True, None),
    "slow": (True, None),
}

MUTATING_PREFIXES = ("Create", "Delete", "Put", "Update", "Attach", "Detach", "Tag",
                     "Untag", "Add", "Remove", "Upload", "Enable", "Deactivate")


class FakeIAM:
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
        self._open = {}
        self._server = None
        self._thread = None
        self._ssl_ctx = None
        self._tmp_cert_dir = None
        self._model = iam_model()

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

    # ---------------------------------------------------------------- lifecycle
    def start(self):
        if self.tls:
            if self._cert_dir_arg:
                self.cert_dir = self._cert_dir_arg
            else:
                self.cert_dir = self._tmp_cert_dir = tempfile.mkdtemp(prefix="fake-iam-tls-")
            paths = tlsutil.make_ca_and_server_cert(self.cert_dir)
            self.ca_file = paths.ca_file
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(paths.cert_file, paths.key_file)
            ctx.set_alpn_protocols(["http/1.1"])    # libcurl offers h2 first
            self._ssl_ctx = ctx
        self._server = _Server((self.host, self._port), self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="fake-iam", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._meta:
                socks = list(self._open.values())
            for s in socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._server = None
        if self.state_file:
            self.save_state(self.state_file)
        if self._tmp_cert_dir:
            shutil.rmtree(self._tmp_cert_dir, ignore_errors=True)
            self._tmp_cert_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1] if self._server else self._port

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def control_url(self):
        return self.url + CONTROL_PREFIX

    def info(self):
        return {"url": self.url, "control_url": self.control_url, "ca_file": self.ca_file,
                "tls": self.tls, "host": self.host, "port": self.port,
                "account_id": self.account_id, "signing_region": self.signing_region,
                "callers": self.callers, "pid": os.getpid()}

    def _log(self, msg):
        if self.verbose:
            sys.stderr.write(f"fake_iam: {msg}\n")

    def set_latency(self, seconds):
        """Hold every IAM answer back by `seconds` (0: none) from now on."""
        self.latency = max(0.0, float(seconds or 0.0))
        return self.latency

    # ------------------------------------------------------------------ clock
    def now(self):
        if self._fixed_now is not None:
            return self._fixed_now
        return (utcnow() + datetime.timedelta(seconds=self._offset)).replace(microsecond=0)

    def set_now(self, when):
        """Pin the clock (datetime or ISO string); None follows real time again."""
        self._fixed_now = parse_time(when) if when is not None else None
        if when is None:
            self._offset = 0.0

    def advance(self, seconds):
        if self._fixed_now is not None:
            self._fixed_now += datetime.timedelta(seconds=seconds)
        else:
            self._offset += seconds

    def _now_iso(self):
        return iso(self.now())

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
            self._callers_cfg = [x for x in self._callers_cfg if x["access_key_id"] != akid]
            self._callers_cfg.append(c)
        return c

    def deny(self, access_key_id, patterns):
        """Deny actions (patterns like 'iam:CreateUser', 'iam:Delete*') to a key."""
        with self._lock:
            self._state["denies"][access_key_id] = list(patterns)

    def env(self, caller=None, region="us-east-1"):
        """Environment for a client process (sesctl or the AWS CLI)."""
        c = caller if isinstance(caller, dict) else (
            self.admin if caller is None else self.caller(caller))
        env = {"AWS_ACCESS_KEY_ID": c["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": c["secret_access_key"],
               "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
               "AWS_ENDPOINT_URL_IAM": self.url}
        if c.get("session_token"):
            env["AWS_SESSION_TOKEN"] = c["session_token"]
        if self.ca_file:
            env["AWS_CA_BUNDLE"] = self.ca_file
        return env

    # ------------------------------------------------------------------ state
    def dump_state(self):
        with self._lock:
            return copy.deepcopy(self._state)

    def load_state(self, state):
        if isinstance(state, (str, os.PathLike)):
            with open(state) as f:
                state = json.load(f)
        st = copy.deepcopy(state)
        base = _blank_state(st.get("account_id", self.account_id),
                            st.get("partition", self.partition))
        for k, v in base.items():
            st.setdefault(k, v)
        with self._lock:
            self._state = st
            self.account_id = st["account_id"]
            self.partition = st["partition"]

    def save_state(self, path):
        # Concurrent connections may change the state at once: one writer at
        # a time, and the last one writes the newest state.
        with self._persist_lock:
            data = json.dumps(self.dump_state(), indent=2, sort_keys=True)
            tmp = f"{path}.tmp{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)

    def reset(self, state=True, faults=True, requests=True):
        """Back to the state at start (callers stay registered), no faults, empty log."""
        if state:
            with self._lock:
                self._state = copy.deepcopy(self._initial)
                for c in list(self._callers_cfg):      # callers added after start stay
                    self.add_caller(c)
        if faults:
            self.clear_faults()
        if requests:
            self.clear_requests()

    def user(self, name):
        with self._lock:
            u = self._find_user(name)
            return copy.deepcopy(u) if u else None

    def access_key(self, akid):
        with self._lock:
            found = self._find_key(akid)
            if not found:
                return None
            k = copy.deepcopy(found[1])
            k["user_name"] = found[0]["name"]
            return k

    def set_access_key(self, akid, **fields):
        """Change a stored key: status, create_date, last_used ({date, service, region})."""
        with self._lock:
            found = self._find_key(akid)
            if not found:
                raise KeyError(akid)
            key = found[1]
            for k, v in fields.items():
                if k == "create_date":
                    v = iso(parse_time(v))
                if k == "last_used" and v is not None:
                    v = {"date": iso(parse_time(v["date"])) if v.get("date") else None,
                         "service": v.get("service", "N/A"),
                         "region": v.get("region", "N/A")}
                key[k] = v
        self._persist()

    def add_managed_policy(self, arn_or_name, path="/", attachable=True):
        arn = arn_or_name
        if not arn.startswith("arn:"):
            arn = f"arn:{self.partition}:iam::{self.account_id}:policy{path}{arn_or_name}"
        with self._lock:
            pols = self._state["managed_policies"]
            pols[:] = [p for p in pols if p["arn"] != arn]
            pols.append({"arn": arn, "name": arn.rsplit("/", 1)[-1], "path": path,
                         "policy_id": "ANPA" + self._rng.chars(B32, 17),
                         "attachable": attachable})
        return arn

    def seed_user(self, name, path="/", tags=None, access_keys=0, inline_policies=None,
                  attached_policies=(), groups=(), login_profile=False,
                  signing_certificates=0, ssh_public_keys=0,
                  service_specific_credentials=0, mfa_devices=0,
                  virtual_mfa_devices=0, create_date=None, permissions_boundary=None):
        """Create (or extend) a user with everything disable has to remove."""
        if isinstance(tags, dict):
            tags = [{"Key": k, "Value": v} for k, v in tags.items()]
        now = iso(parse_time(create_date)) if create_date else self._now_iso()
        with self._lock:
            u = self._find_user(name)
            if u is None:
                u = self._new_user(name, path, list(tags or []), create_date=now)
            elif tags:
                u["tags"].extend(tags)
            if permissions_boundary:
                u["permissions_boundary"] = permissions_boundary
            if isinstance(access_keys, int):
                access_keys = [{} for _ in range(access_keys)]
            for k in access_keys:
                u["access_keys"].append({
                    "access_key_id": k.get("access_key_id") or self._new_akid(),
                    "secret_access_key": k.get("secret_access_key") or self._rng.chars(B64, 40),
                    "status": k.get("status", "Active"),
                    "create_date": iso(parse_time(k["create_date"])) if k.get("create_date") else now,
                    "last_used": k.get("last_used"), "seq": self._next_seq(),
                    # for fake_ses_smtp's propagation delay; an explicit
                    # create_date means an old key (None = propagated)
                    "created_mono": (None if (k.get("create_date") or create_date)
                                     else time.monotonic())})
            for pname, doc in (inline_policies or {}).items():
                if not isinstance(doc, str):
                    doc = json.dumps(doc)
                u["inline_policies"] = [p for p in u["inline_policies"] if p["name"] != pname]
                u["inline_policies"].append({"name": pname, "document": doc})
            for arn in attached_policies:
                if not any(p["arn"] == arn for p in self._state["managed_policies"]):
                    self.add_managed_policy(arn)
                if arn not in u["attached_policies"]:
                    u["attached_policies"].append(arn)
            for g in groups:
                grp = self._find_group(g) or self._new_group(g, "/")
                if u["name"] not in grp["members"]:
                    grp["members"].append(u["name"])
            if login_profile:
                u["login_profile"] = {"create_date": now, "password_reset_required": False}
            for _ in range(signing_certificates):
                u["signing_certificates"].append(self._new_cert(_FAKE_CERT_PEM, now))
            for _ in range(ssh_public_keys):
                u["ssh_public_keys"].append(self._new_ssh_key(_FAKE_SSH_KEY, now))
            for _ in range(service_specific_credentials):
                u["service_specific_credentials"].append(
                    self._new_ssc(u["name"], "codecommit.amazonaws.com", now))
            for i in range(mfa_devices):
                u["mfa_devices"].append({"serial": "GAHT" + self._rng.chars(string.digits, 8),
                                         "enable_date": now, "seq": self._next_seq()})
            for i in range(virtual_mfa_devices):
                serial = (f"arn:{self.partition}:iam::{self.account_id}:mfa/"
                          f"{u['name']}-{self._rng.chars(string.digits, 6)}")
                self._state["virtual_mfa_devices"].append({
                    "serial": serial, "seed": self._rng.chars(B32, 64),
                    "user": u["name"], "enable_date": now, "path": "/"})
                u["mfa_devices"].append({"serial": serial, "enable_date": now,
                                         "seq": self._next_seq()})
            out = copy.deepcopy(u)
        self._persist()
        return out

    def _persist(self):
        if self.state_file:
            self.save_state(self.state_file)

    # internal state helpers (call with self._lock held)
    def _next_seq(self):
        """Creation order, for listings IAM returns oldest first."""
        self._state["seq"] = self._state.get("seq", 0) + 1
        return self._state["seq"]

    def _users(self):
        return self._state["users"]

    def _find_user(self, name):
        if name is None:
            return None
        ln = name.lower()
        for u in self._state["users"]:
            if u["name"].lower() == ln:
                return u
        return None

    def _user_arn(self, u=None, name=None, path="/"):
        if u is not None:
            name, path = u["name"], u["path"]
        return f"arn:{self.partition}:iam::{self.account_id}:user{path}{name}"

    def _new_user(self, name, path, tags, create_date=None):
        u = {"name": name, "path": path, "user_id": "AIDA" + self._rng.chars(B32, 17),
             "create_date": create_date or self._now_iso(), "password_last_used": None,
             "permissions_boundary": None, "tags": tags, "inline_policies": [],
             "attached_policies": [], "access_keys": [], "login_profile": None,
             "signing_certificates": [], "ssh_public_keys": [],
             "service_specific_credentials": [], "mfa_devices": []}
        self._state["users"].append(u)
        return u

    def _new_akid(self):
        while True:
            akid = "AKIA" + self._rng.chars(B32, 16)
            if self._find_key(akid) is None:
                return akid

    def _find_key(self, akid):
        for u in self._state["users"]:
            for k in u["access_keys"]:
                if k["access_key_id"] == akid:
                    return u, k
        return None

    def _find_group(self, name):
        for g in self._state["groups"]:
            if g["name"].lower() == name.lower():
                return g
        return None

    def _new_group(self, name, path):
        g = {"name": name, "path": path, "group_id": "AGPA" + self._rng.chars(B32, 17),
             "create_date": self._now_iso(), "members": []}
        self._state["groups"].append(g)
        return g

    def _group_arn(self, g):
        return f"arn:{self.partition}:iam::{self.account_id}:group{g['path']}{g['name']}"

    def _new_cert(self, body, now):
        return {"certificate_id": self._rng.chars(string.ascii_uppercase + string.digits, 32),
                "body": body, "status": "Active", "upload_date": now,
                "seq": self._next_seq()}

    def _new_ssh_key(self, body, now):
        fp = hashlib.md5(body.encode()).hexdigest()
        return {"id": "APKA" + self._rng.chars(B32, 16), "body": body, "status": "Active",
                "upload_date": now, "seq": self._next_seq(),
                "fingerprint": ":".join(fp[i:i + 2] for i in range(0, 32, 2))}

    def _new_ssc(self, user_name, service, now):
        return {"id": "ACCA" + self._rng.chars(B32, 17), "service_name": service,
                "service_user_name": f"{user_name}-at-{self.account_id}",
                "service_password": self._rng.chars(B64, 44), "status": "Active",
                "create_date": now}

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

    # ------------------------------------------------------------ request log
    @property
    def requests(self):
        with self._meta:
            return copy.deepcopy(self._requests)

    def clear_requests(self):
        with self._meta:
            self._requests.clear()

    def iam_connection_ids(self):
        with self._meta:
            return sorted({r["conn"] for r in self._requests})

    def _new_connection(self):
        with self._meta:
            self._conn_seq += 1
            self.connections_accepted += 1
            return self._conn_seq

    def _handshake_done(self, conn_id, sock):
        with self._meta:
            self.tls_handshakes += 1
            self._open[conn_id] = sock

    def _connection_closed(self, conn_id):
        with self._meta:
            self._open.pop(conn_id, None)

    # ------------------------------------------------------------------ faults
    def add_fault(self, kind, action=None, nth=1, times=1, **params):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if action in ("*", ""):
            action = None
        with self._meta:
            self._fault_seq += 1
            f = {"id": self._fault_seq, "kind": kind, "action": action, "nth": int(nth),
                 "times": None if times is None else int(times), "params": params,
                 "seen": 0, "fired": 0}
            self._faults.append(f)
            return f["id"]

    def clear_faults(self):
        with self._meta:
            self._faults.clear()

    @property
    def faults(self):
        with self._meta:
            return copy.deepcopy(self._faults)

    def _match_fault(self, action):
        with self._meta:
            chosen = None
            for f in self._faults:
                if f["action"] is not None and f["action"] != action:
                    continue
                f["seen"] += 1
                if chosen is not None:
                    continue
                if f["seen"] >= f["nth"] and (f["times"] is None or f["fired"] < f["times"]):
                    f["fired"] += 1
                    chosen = f
            return copy.deepcopy(chosen) if chosen else None

    # ------------------------------------------------------------- HTTP entry
    def _handle_http(self, h, body):
        path, _, query = h.path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            self._handle_control(h, path[len(CONTROL_PREFIX):], query, body)
            return
        self._handle_iam(h, path, query, body)

    def _record(self, rec):
        with self._meta:
            self._seq += 1
            rec["seq"] = self._seq
            self._requests.append(rec)

    def _handle_iam(self, h, path, query, body):
        request_id = self._rng.uuid()
        rec = {"conn": h.conn_id, "time": self._now_iso(),
               "received_mono": time.monotonic(), "method": h.command,
               "path": path, "query": query,
               "headers": [[k, v] for k, v in h.headers.items()],
               "body": body.decode("utf-8", "replace"), "params": {}, "action": None,
               "status": None, "error_code": None, "request_id": request_id,
               "fault": None, "applied": False, "caller": None, "sigv4": None,
               "response": None, "truncated_to": None,
               "received_at": time.time(), "answered_at": None, "latency": self.latency}
        self._record(rec)
        try:
            self._handle_iam_request(h, rec, path, query, body, request_id)
        finally:
            if rec["answered_at"] is None:  # dropped without an answer
                rec["answered_at"] = time.time()

    def _handle_iam_request(self, h, rec, path, query, body, request_id):
        if rec["latency"] > 0:
            time.sleep(rec["latency"])      # outside every lock: answers overlap
        try:
            params = self._parse_params(h, query, body)
            rec["params"] = params
            action = params.get("Action")
            rec["action"] = action
            fault = self._match_fault(action)
        except IAMError as e:
            params, action, fault = {}, None, None
            self._send_error(h, rec, e, request_id)
            return
        if fault:
            rec["fault"] = fault["kind"]
            kind, fp = fault["kind"], fault["params"]
            apply = fp.get("apply", FAULT_KINDS[kind][0]) or kind == "slow"
            if kind == "slow" and fp.get("before"):
                time.sleep(float(fp.get("delay", 2)))
            if not apply:
                self._fault_without_apply(h, rec, fault, request_id)
                return
        status, body_out, err = self._process(h, rec, params, action, query, body, request_id)
        if fault:
            self._fault_after_apply(h, rec, fault, status, body_out, err, request_id)
            return
        self._finish(h, rec, status, body_out, err)

    def _finish(self, h, rec, status, body_out, err, **kw):
        rec["status"] = status
        rec["error_code"] = err.code if err else None
        rec["response"] = body_out.decode("utf-8", "replace")
        rec["answered_at"] = time.time()    # before the client can see it
        h.send_raw(status, [("x-amzn-RequestId", rec["request_id"]),
                            ("Content-Type", "text/xml")], body_out, **kw)

    def _send_error(self, h, rec, err, request_id):
        self._finish(h, rec, err.status, error_xml(err, request_id), err)

    def _fault_without_apply(self, h, rec, fault, request_id):
        kind, fp = fault["kind"], fault["params"]
        if kind in ("close_before", "reset_before"):
            rec["status"] = 0
            h.abort(rst=(kind == "reset_before"))
        if kind == "html_error":
            self._send_html(h, rec, fp)
            return
        self._send_error(h, rec, self._fault_error(fault, rec), request_id)

    @staticmethod
    def _send_html(h, rec, fp):
        """What a proxy or load balancer in front of IAM would answer."""
        status = int(fp.get("status", 502))
        reason = HTTP_REASONS.get(status, ("Error",))[0]
        page = fp.get("body") or (
            f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n")
        rec["status"] = status
        rec["response"] = page
        rec["answered_at"] = time.time()
        h.send_raw(status, [("Content-Type", "text/html")], page.encode())

    def _fault_error(self, fault, rec):
        kind, fp = fault["kind"], fault["params"]
        if kind == "service_failure":
            return IAMError("ServiceFailure", fp.get("message",
                            "The request processing has failed because of an unknown "
                            "error, exception or failure."), 500, "Receiver")
        if kind == "internal_failure":
            return IAMError("InternalFailure", fp.get("message",
                            "The request processing has failed because of an unknown "
                            "error, exception or failure."), 500, "Receiver")
        if kind == "service_unavailable":
            return IAMError("ServiceUnavailable", fp.get("message",
                            "Service is unable to handle request."), 503, "Receiver")
        if kind == "throttling":
            return IAMError("Throttling", fp.get("message", "Rate exceeded"), 400)
        if kind == "request_expired":
            return IAMError("RequestExpired", fp.get("message",
                            "Request has expired."), 400)
        if kind == "signature_expired":
            stamp = self._request_date(rec) or self.now()
            server = stamp + datetime.timedelta(seconds=self.max_skew + 300)
            return signature_mismatch(self._expired_message(stamp, server))
        if kind == "error":
            return IAMError(fp.get("code", "ServiceFailure"), fp.get("message", "injected"),
                            int(fp.get("status", 400)), fp.get("type", "Sender"))
        return IAMError("ServiceFailure", "injected", 500, "Receiver")

    def _fault_after_apply(self, h, rec, fault, status, body_out, err, request_id):
        kind, fp = fault["kind"], fault["params"]
        if kind in ("close_after", "close_before", "reset_before"):
            rec["status"] = 0
            rec["response"] = body_out.decode("utf-8", "replace")
            h.abort(rst=bool(fp.get("rst")) or kind == "reset_before")
        if kind == "html_error":
            self._send_html(h, rec, fp)
            return
        if kind == "slow":
            time.sleep(0 if fp.get("before") else float(fp.get("delay", 2)))
            self._finish(h, rec, status, body_out, err)
            return
        if kind == "malformed_xml":
            bad = fp.get("body")
            bad = bad.encode() if bad else body_out[:max(1, len(body_out) // 2)] + b"<<&>\x00"
            self._finish(h, rec, int(fp.get("status", status)), bad, err)
            return
        if kind == "truncated_xml":
            cut = max(1, len(body_out) // 2)
            rec["truncated_to"] = cut
            h.close_connection = True
            self._finish(h, rec, status, body_out, err, truncate_to=cut)
            h.abort()
        # error kinds with apply=True: the change happened, the answer is an error
        self._send_error(h, rec, self._fault_error(fault, rec), request_id)

    # ---------------------------------------------------------- request parse
    def _parse_params(self, h, query, body):
        pairs = []
        try:
            if query:
                pairs += urllib.parse.parse_qsl(query, keep_blank_values=True,
                                                encoding="utf-8", errors="strict")
            ctype = (h.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
            if body and ctype == "application/x-www-form-urlencoded":
                pairs += urllib.parse.parse_qsl(body.decode("utf-8"),
                                                keep_blank_values=True,
                                                encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise IAMError("MalformedQueryString",
                           "The query string contains a syntax error.", 400)
        params = {}
        for k, v in pairs:
            params.setdefault(k, v)
        return params

    def _request_date(self, rec):
        for k, v in rec["headers"]:
            if k.lower() == "x-amz-date":
                try:
                    return parse_time(v)
                except ValueError:
                    return None
        return None

    @staticmethod
    def _expired_message(stamp, server):
        return (f"Signature expired: {stamp.strftime(SIGV4_FMT)} is now earlier than "
                f"{(server - datetime.timedelta(minutes=15)).strftime(SIGV4_FMT)} "
                f"({server.strftime(SIGV4_FMT)} - 15 min.)")

    # ---------------------------------------------------------------- process
    def _process(self, h, rec, params, action, query, body, request_id):
        """Route, authenticate, validate, authorize, run.  -> (status, body, err)."""
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
            model = sts_model()
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
            return 200, sts_success_xml(action, result, request_id), None
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

    # ---------------------------------------------------------------- SigV4
    def _authenticate(self, h, rec, query, body, expected_service="iam"):
        headers = h.headers
        auth = headers.get("Authorization")
        if auth is None:
            raise IAMError("MissingAuthenticationToken",
                           "Request is missing Authentication Token", 403)
        auth = auth.strip()
        algo, _, rest = auth.partition(" ")
        if algo != "AWS4-HMAC-SHA256":
            # UNSURE: wording.
            raise incomplete_signature(f"Unsupported AWS 'algorithm': '{algo}'")
        comps = {}
        for part in rest.split(","):
            k, eq, v = part.strip().partition("=")
            if eq:
                comps[k.strip()] = v.strip()
        missing = [k for k in ("Credential", "Signature", "SignedHeaders") if k not in comps]
        amz_date = headers.get("X-Amz-Date")
        date_hdr = headers.get("Date")
        if missing or (amz_date is None and date_hdr is None):
            msg = "".join(f"Authorization header requires '{k}' parameter. " for k in missing)
            if amz_date is None and date_hdr is None:
                msg += ("Authorization header requires existence of either a 'X-Amz-Date' "
                        "or a 'Date' header. ")
            raise incomplete_signature(msg + f"Authorization={auth}")
        cred = comps["Credential"].split("/")
        if len(cred) != 5:
            raise incomplete_signature(
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                f"keyid/date/region/service/term, got '{comps['Credential']}'")
        akid, scope_date, region, service, term = cred
        rec["caller"] = akid
        if amz_date is not None:
            try:
                stamp = datetime.datetime.strptime(amz_date, SIGV4_FMT).replace(
                    tzinfo=datetime.timezone.utc)
            except ValueError:
                raise incomplete_signature(
                    f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                    "See http://en.wikipedia.org/wiki/ISO_8601")
        else:
            try:
                stamp = parse_time(email.utils.parsedate_to_datetime(date_hdr))
            except (TypeError, ValueError):
                raise incomplete_signature(
                    f"Date must be in ISO-8601 'basic format'. Got '{date_hdr}'. "
                    "See http://en.wikipedia.org/wiki/ISO_8601")
        timestamp = stamp.strftime(SIGV4_FMT)

        with self._lock:
            caller = self._resolve_key(akid)
        if caller is None or getattr(caller, "status", "Active") != "Active":
            raise invalid_client_token()
        sent_token = headers.get("X-Amz-Security-Token")
        if caller.token is not None or sent_token is not None:
            if caller.token is None or sent_token != caller.token:
                raise invalid_client_token()
            if caller.expired:
                raise IAMError("ExpiredToken",
                               "The security token included in the request is expired", 403)
        # Scope checks.  UNSURE: wording except the region one (rusoto#1870).
        if scope_date != timestamp[:8]:
            raise signature_mismatch(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                f"of date from HTTP: '{scope_date}' != '{timestamp[:8]}', from "
                f"'{timestamp}'.")
        if not (region == self.signing_region if expected_service == "iam"
                else self._sts_region_ok(region)):
            raise signature_mismatch(
                f"Credential should be scoped to a valid region, not '{region}'. ")
        if service != expected_service:
            raise signature_mismatch("Credential should be scoped to correct service: "
                                     f"'{expected_service}'. ")
        if term != "aws4_request":
            raise signature_mismatch(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{term}'. ")
        signed = [s.strip().lower() for s in comps["SignedHeaders"].split(";") if s.strip()]
        if "host" not in signed:
            raise signature_mismatch(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        # Clock skew: "Signature expired" / "Signature not yet current" as
        # SignatureDoesNotMatch 403 (aws/aws-cli#6676 capture from STS, same front end).
        if self.skew_check:
            now = self.now()
            delta = (stamp - now).total_seconds()
            if delta < -self.max_skew:
                raise signature_mismatch(self._expired_message(stamp, now))
            if delta > self.max_skew:
                raise signature_mismatch(
                    f"Signature not yet current: {timestamp} is still later than "
                    f"{(now + datetime.timedelta(minutes=15)).strftime(SIGV4_FMT)} "
                    f"({now.strftime(SIGV4_FMT)} + 15 min.)")

        # The signature itself, computed by botocore over exactly the headers the
        # client said it signed.
        hdrs = HTTPHeaders()
        plain = {}
        for name in signed:
            values = headers.get_all(name)
            if values is None:
                raise signature_mismatch()
            for v in values:
                hdrs[name] = v
            if name != "x-amz-content-sha256":
                plain[name] = ",".join(values)
        host = headers.get("Host") or f"{self.host}:{self.port}"
        path = h.path.partition("?")[0]
        qpairs = urllib.parse.parse_qsl(query, keep_blank_values=True) if query else []
        req = AWSRequest(method=h.command, url=f"https://{host}{path}", data=body,
                         headers=plain, params=qpairs or None)
        req.context["timestamp"] = timestamp
        signer = _ExactHeadersSigV4(Credentials(akid, caller.secret, caller.token),
                                    service, region, hdrs)
        canonical = signer.canonical_request(req)
        sts = signer.string_to_sign(req, canonical)
        expected = signer.signature(sts, req)
        provided = comps["Signature"]
        ok = hmac_equal(expected, provided)
        rec["sigv4"] = {"canonical_request": canonical, "string_to_sign": sts,
                        "expected_signature": expected, "provided_signature": provided,
                        "ok": ok}
        if not ok:
            raise signature_mismatch()
        if self.track_last_used and caller.kind == "user":
            with self._lock:
                found = self._find_key(akid)
                if found:
                    found[1]["last_used"] = {"date": self._now_iso(),
                                             "service": expected_service,
                                             "region": region}
        return caller

    # -------------------------------------------------------------- authorize
    def _authorize(self, ctx):
        patterns = self._state["denies"].get(ctx.caller.access_key_id) or []
        target = "iam:" + ctx.action
        for p in patterns:
            p = p if ":" in p else "iam:" + p
            if fnmatch.fnmatchcase(target, p):
                raise IAMError("AccessDenied",
                               f"User: {ctx.caller.arn} is not authorized to perform: "
                               f"{target} on resource: {self._resource(ctx)}", 403)

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

    # ---------------------------------------------------------------- groups
    def _group_or_404(self, name):
        g = self._find_group(name)
        if g is None:
            raise IAMError("NoSuchEntity", f"The group with name {name} cannot be found.", 404)
        return g

    def _group_xml(self, g):
        return [("Path", g["path"]), ("GroupName", g["name"]), ("GroupId", g["group_id"]),
                ("Arn", self._group_arn(g)), ("CreateDate", g["create_date"])]

    def _op_CreateGroup(self, ctx):
        name = ctx.params["GroupName"]
        if self._find_group(name):
            raise IAMError("EntityAlreadyExists", f"Group with name {name} already exists.", 409)
        g = self._new_group(name, ctx.params.get("Path", "/"))
        return [("Group", self._group_xml(g))]

    def _op_AddUserToGroup(self, ctx):
        g = self._group_or_404(ctx.params["GroupName"])
        u = self._target_user(ctx)
        if u["name"] not in g["members"]:
            g["members"].append(u["name"])
        return None

    def _op_ListGroupsForUser(self, ctx):
        u = self._target_user(ctx)
        groups = [g for g in self._state["groups"] if u["name"] in g["members"]]
        page, tail = self._paginate(ctx, groups, lambda g: (g["name"].lower(), g["name"]),
                                    u["name"])
        return [("Groups", members([self._group_xml(g) for g in page]))] + tail

    def _op_RemoveUserFromGroup(self, ctx):
        g = self._group_or_404(ctx.params["GroupName"])
        u = self._target_user(ctx)
        if u["name"] not in g["members"]:
            # UNSURE: wording.
            raise IAMError("NoSuchEntity", f"User {u['name']} is not in group {g['name']}.",
                           404)
        g["members"].remove(u["name"])
        return None

    # --------------------------------------------------------- login profile
    def _op_CreateLoginProfile(self, ctx):
        u = self._target_user(ctx)
        if u["login_profile"]:
            raise IAMError("EntityAlreadyExists",
                           f"Login Profile for user {u['name']} already exists.", 409)
        u["login_profile"] = {"create_date": self._now_iso(),
                              "password_reset_required":
                                  bool(ctx.params.get("PasswordResetRequired", False))}
        return [("LoginProfile", self._login_xml(u))]

    def _login_xml(self, u):
        lp = u["login_profile"]
        return [("UserName", u["name"]), ("CreateDate", lp["create_date"]),
                ("PasswordResetRequired", bool(lp["password_reset_required"]))]

    def _login_or_404(self, u):
        if not u["login_profile"]:
            raise IAMError("NoSuchEntity",
                           f"Login Profile for User {u['name']} cannot be found.", 404)

    def _op_GetLoginProfile(self, ctx):
        u = self._target_user(ctx)
        self._login_or_404(u)
        return [("LoginProfile", self._login_xml(u))]

    def _op_DeleteLoginProfile(self, ctx):
        u = self._target_user(ctx)
        self._login_or_404(u)
        u["login_profile"] = None
        return None

    # --------------------------------------------------- signing certificates
    def _op_UploadSigningCertificate(self, ctx):
        u = self._target_user(ctx)
        body = ctx.params["CertificateBody"]
        if "-----BEGIN CERTIFICATE-----" not in body:
            raise IAMError("MalformedCertificate", "Unable to parse certificate. Please "
                           "ensure the certificate is in PEM format.", 400)
        if len(u["signing_certificates"]) >= 2:
            raise IAMError("LimitExceeded",
                           "Cannot exceed quota for CertificatesPerUser: 2", 409)
        c = self._new_cert(body, self._now_iso())
        u["signing_certificates"].append(c)
        return [("Certificate", self._cert_xml(u, c))]

    @staticmethod
    def _cert_xml(u, c):
        return [("UserName", u["name"]), ("CertificateId", c["certificate_id"]),
                ("CertificateBody", c["body"]), ("Status", c["status"]),
                ("UploadDate", c["upload_date"])]

    def _op_ListSigningCertificates(self, ctx):
        u = self._target_user(ctx)
        page, tail = self._paginate(ctx, u["signing_certificates"],
                                    lambda c: (c["upload_date"], c.get("seq", 0), c["certificate_id"]),
                                    u["name"])
        return [("Certificates", members([self._cert_xml(u, c) for c in page]))] + tail

    def _op_DeleteSigningCertificate(self, ctx):
        u = self._target_user(ctx)
        cid = ctx.params["CertificateId"]
        for c in u["signing_certificates"]:
            if c["certificate_id"] == cid:
                u["signing_certificates"].remove(c)
                return None
        raise IAMError("NoSuchEntity", f"The Certificate with id {cid} cannot be found.", 404)

    # ---------------------------------------------------------------- SSH keys
    def _op_UploadSSHPublicKey(self, ctx):
        u = self._target_user(ctx)
        body = ctx.params["SSHPublicKeyBody"]
        if not re.match(r"(ssh-rsa|ssh-ed25519|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+", body):
            raise IAMError("InvalidPublicKey", "The provided SSH public key is not valid.",
                           400)
        if len(u["ssh_public_keys"]) >= 5:
            raise IAMError("LimitExceeded", "Cannot exceed quota for KeysPerUser: 5", 409)
        k = self._new_ssh_key(body, self._now_iso())
        u["ssh_public_keys"].append(k)
        return [("SSHPublicKey", [("UserName", u["name"]), ("SSHPublicKeyId", k["id"]),
                                  ("Fingerprint", k["fingerprint"]),
                                  ("SSHPublicKeyBody", k["body"]), ("Status", k["status"]),
                                  ("UploadDate", k["upload_date"])])]

    def _op_ListSSHPublicKeys(self, ctx):
        u = self._target_user(ctx)
        page, tail = self._paginate(ctx, u["ssh_public_keys"],
                                    lambda k: (k["upload_date"], k.get("seq", 0), k["id"]),
                                    u["name"])
        return [("SSHPublicKeys", members([
            [("UserName", u["name"]), ("SSHPublicKeyId", k["id"]), ("Status", k["status"]),
             ("UploadDate", k["upload_date"])] for k in page]))] + tail

    def _op_DeleteSSHPublicKey(self, ctx):
        u = self._target_user(ctx)
        kid = ctx.params["SSHPublicKeyId"]
        for k in u["ssh_public_keys"]:
            if k["id"] == kid:
                u["ssh_public_keys"].remove(k)
                return None
        raise IAMError("NoSuchEntity", f"The Public Key with id {kid} cannot be found.", 404)

    # ------------------------------------------- service-specific credentials
    def _op_CreateServiceSpecificCredential(self, ctx):
        u = self._target_user(ctx)
        svc = ctx.params["ServiceName"]
        if svc not in ("codecommit.amazonaws.com", "cassandra.amazonaws.com"):
            raise IAMError("NotSupportedService",
                           f"No such service {svc} is supported for Service-Specific "
                           "Credentials", 404)
        if sum(1 for c in u["service_specific_credentials"] if c["service_name"] == svc) >= 2:
            raise IAMError("LimitExceeded", "Cannot exceed quota for "
                           "ServiceSpecificCredentialsPerUserPerService: 2", 409)
        c = self._new_ssc(u["name"], svc, self._now_iso())
        u["service_specific_credentials"].append(c)
        return [("ServiceSpecificCredential", [
            ("CreateDate", c["create_date"]), ("ServiceName", c["service_name"]),
            ("ServiceUserName", c["service_user_name"]),
            ("ServicePassword", c["service_password"]),
            ("ServiceSpecificCredentialId", c["id"]), ("UserName", u["name"]),
            ("Status", c["status"])])]

    def _op_ListServiceSpecificCredentials(self, ctx):
        u = self._target_user(ctx)
        svc = ctx.params.get("ServiceName")
        creds = [c for c in u["service_specific_credentials"]
                 if svc is None or c["service_name"] == svc]
        return [("ServiceSpecificCredentials", members([
            [("UserName", u["name"]), ("Status", c["status"]),
             ("ServiceUserName", c["service_user_name"]), ("CreateDate", c["create_date"]),
             ("ServiceSpecificCredentialId", c["id"]), ("ServiceName", c["service_name"])]
            for c in creds]))]

    def _op_DeleteServiceSpecificCredential(self, ctx):
        u = self._target_user(ctx)
        cid = ctx.params["ServiceSpecificCredentialId"]
        for c in u["service_specific_credentials"]:
            if c["id"] == cid:
                u["service_specific_credentials"].remove(c)
                return None
        raise IAMError("NoSuchEntity",
                       f"No such credential {cid} exists for user {u['name']}", 404)

    # ------------------------------------------------------------------- MFA
    def _vmfa(self, serial):
        for v in self._state["virtual_mfa_devices"]:
            if v["serial"] == serial:
                return v
        return None

    def _op_CreateVirtualMFADevice(self, ctx):
        path = ctx.params.get("Path", "/")
        serial = (f"arn:{self.partition}:iam::{self.account_id}:mfa{path}"
                  f"{ctx.params['VirtualMFADeviceName']}")
        if self._vmfa(serial):
            raise IAMError("EntityAlreadyExists",
                           "MFADevice entity at the same path and name already exists.", 409)
        v = {"serial": serial, "seed": self._rng.chars(B32, 64), "user": None,
             "enable_date": None, "path": path}
        self._state["virtual_mfa_devices"].append(v)
        return [("VirtualMFADevice", [
            ("SerialNumber", serial),
            ("Base32StringSeed", base64.b64encode(v["seed"].encode()).decode()),
            ("QRCodePNG", base64.b64encode(_TINY_PNG).decode())])]

    def _op_EnableMFADevice(self, ctx):
        u = self._target_user(ctx)
        serial = ctx.params["SerialNumber"]
        if ctx.params["AuthenticationCode1"] == ctx.params["AuthenticationCode2"]:
            raise IAMError("InvalidAuthenticationCode",
                           "Authentication code for device is not valid.", 403)
        if serial.startswith("arn:"):
            v = self._vmfa(serial)
            if v is None:
                raise IAMError("NoSuchEntity", f"VirtualMFADevice with serial number "
                               f"{serial} doesn't exist.", 404)
            if v["user"]:
                raise IAMError("EntityAlreadyExists", "MFA Device is already in use.", 409)
            v["user"], v["enable_date"] = u["name"], self._now_iso()
        if any(d["serial"] == serial for d in u["mfa_devices"]):
            raise IAMError("EntityAlreadyExists", "MFA Device is already in use.", 409)
        if len(u["mfa_devices"]) >= 8:
            raise IAMError("LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8", 409)
        u["mfa_devices"].append({"serial": serial, "enable_date": self._now_iso(),
                                 "seq": self._next_seq()})
        return None

    def _op_ListMFADevices(self, ctx):
        u = self._target_user(ctx)
        page, tail = self._paginate(ctx, u["mfa_devices"],
                                    lambda d: (d["enable_date"], d.get("seq", 0), d["serial"]),
                                    u["name"])
        return [("MFADevices", members([
            [("UserName", u["name"]), ("SerialNumber", d["serial"]),
             ("EnableDate", d["enable_date"])] for d in page]))] + tail

    def _op_DeactivateMFADevice(self, ctx):
        u = self._target_user(ctx)
        serial = ctx.params["SerialNumber"]
        for d in u["mfa_devices"]:
            if d["serial"] == serial:
                u["mfa_devices"].remove(d)
                v = self._vmfa(serial)
                if v:
                    v["user"], v["enable_date"] = None, None
                return None
        # UNSURE: wording.
        raise IAMError("NoSuchEntity", f"MFA Device with serial number {serial} does not "
                       f"exist for user {u['name']}.", 404)

    def _op_DeleteVirtualMFADevice(self, ctx):
        serial = ctx.params["SerialNumber"]
        v = self._vmfa(serial)
        if v is None:
            raise IAMError("NoSuchEntity", f"VirtualMFADevice with serial number {serial} "
                           "doesn't exist.", 404)
        if v["user"]:
            # UNSURE: wording.
            raise IAMError("DeleteConflict", "MFA device is still in use.", 409)
        self._state["virtual_mfa_devices"].remove(v)
        return None

    # --------------------------------------------------------------- control
    def _handle_control(self, h, what, query, body):
        def reply(status, obj):
            data = (json.dumps(obj, indent=1) + "\n").encode()
            h.send_raw(status, [("Content-Type", "application/json")], data)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as e:
            reply(400, {"error": f"bad JSON: {e}"})
            return
        m = h.command
        try:
            if what == "info" and m == "GET":
                reply(200, self.info())
            elif what == "requests":
                if m == "DELETE":
                    self.clear_requests()
                    reply(200, {"ok": True})
                else:
                    reply(200, {"requests": self.requests})
            elif what == "connections":
                reply(200, {"accepted": self.connections_accepted,
                            "tls_handshakes": self.tls_handshakes,
                            "iam_connection_ids": self.iam_connection_ids()})
            elif what == "faults":
                if m == "POST":
                    specs = data if isinstance(data, list) else [data]
                    ids = []
                    for s in specs:
                        s = dict(s)
                        kind = s.pop("kind")
                        ids.append(self.add_fault(kind, s.pop("action", None),
                                                  s.pop("nth", 1), s.pop("times", 1), **s))
                    reply(200, {"ids": ids})
                elif m == "DELETE":
                    self.clear_faults()
                    reply(200, {"ok": True})
                else:
                    reply(200, {"faults": self.faults})
            elif what == "state":
                if m == "PUT":
                    self.load_state(data)
                    self._persist()
                    reply(200, {"ok": True})
                else:
                    reply(200, self.dump_state())
            elif what == "reset" and m == "POST":
                self.reset()
                reply(200, {"ok": True})
            elif what == "clock":
                if m == "PUT":
                    if "now" in data:
                        self.set_now(data["now"])
                    if "advance" in data:
                        self.advance(float(data["advance"]))
                    if "skew_check" in data:
                        self.skew_check = bool(data["skew_check"])
                    if "max_skew" in data:
                        self.max_skew = int(data["max_skew"])
                reply(200, {"now": self._now_iso(), "pinned": self._fixed_now is not None,
                            "skew_check": self.skew_check, "max_skew": self.max_skew})
            elif what == "latency":
                if m == "PUT":
                    self.set_latency(data.get("latency", 0))
                reply(200, {"latency": self.latency})
            elif what == "seed-user" and m == "POST":
                reply(200, self.seed_user(**data))
            elif what == "callers" and m == "POST":
                self.add_caller(data)
                reply(200, {"callers": self.callers})
            elif what.startswith("access-keys/") and m == "POST":
                self.set_access_key(what.split("/", 1)[1], **data)
                reply(200, self.access_key(what.split("/", 1)[1]))
            elif what == "roles" and m == "POST":
                reply(200, self.add_role(**data))
            elif what == "managed-policies" and m == "POST":
                reply(200, {"arn": self.add_managed_policy(
                    data["arn"], data.get("path", "/"), data.get("attachable", True))})
            else:
                reply(404, {"error": f"no control endpoint {m} {CONTROL_PREFIX}{what}"})
        except (KeyError, TypeError, ValueError) as e:
            reply(400, {"error": f"{type(e).__name__}: {e}"})


_sts_model = None


def sts_model():
    """botocore's STS service model (python3-botocore), loaded once."""
    global _sts_model
    with _model_lock:
        if _sts_model is None:
            _sts_model = botocore.session.get_session().get_service_model("sts")
        return _sts_model


def sts_success_xml(action, result, request_id):
    """success_xml in STS's namespace."""
    body = [(f"{action}Result", result), ("ResponseMetadata", [("RequestId", request_id)])]
    out = [f'<{action}Response xmlns="{STS_NS}">']
    _render(body, 1, out)
    out.append(f"</{action}Response>")
    return ("\n".join(out) + "\n").encode()


class _ExactHeadersSigV4(SigV4Auth):
    """botocore's SigV4 signer, told which headers the client signed."""

    def __init__(self, credentials, service, region, signed_headers):
        super().__init__(credentials, service, region)
        self._signed_headers = signed_headers

    def headers_to_sign(self, request):
        return self._signed_headers


def hmac_equal(a, b):
    return hmac.compare_digest(a.encode(), b.encode())


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


_FAKE_CERT_PEM = ("-----BEGIN CERTIFICATE-----\n"
                  "TUlJQkZha2VDZXJ0aWZpY2F0ZUZvclNlc2N0bFRlc3RzT25seQ==\n"
                  "-----END CERTIFICATE-----\n")
_FAKE_SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFakeKeyForSesctlTestsOnly"
                 "NotARealKey0000000000000000000000000000000000000000000000000000 test")
_TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==")


# --------------------------------------------------------------------------
# command line

def main(argv=None):
    ap = argparse.ArgumentParser(description="Local AWS IAM stand-in for sesctl's tests.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert-dir", help="where to write ca.pem/server.pem (default: temp)")
    ap.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    ap.add_argument("--state", help="JSON state file: loaded if present, kept up to date")
    ap.add_argument("--caller", action="append", default=[],
                    help="AKID:SECRET[:TOKEN] (repeatable; default: built-in test callers)")
    ap.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    ap.add_argument("--partition", default="aws", choices=sorted(PARTITION_REGION))
    ap.add_argument("--now", help="pin the server clock (ISO 8601)")
    ap.add_argument("--no-skew-check", action="store_true")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--page-cap", type=int)
    ap.add_argument("--latency", type=float, default=0.0,
                    help="seconds every IAM answer is held back (e.g. 0.05)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    fake = FakeIAM(tls=not args.http, host=args.host, port=args.port,
                   cert_dir=args.cert_dir, account_id=args.account_id,
                   partition=args.partition, callers=args.caller or None, now=args.now,
                   skew_check=not args.no_skew_check, seed=args.seed,
                   state_file=args.state, page_cap=args.page_cap, verbose=args.verbose,
                   latency=args.latency)
    fake.start()
    sys.stdout.write(json.dumps(fake.info()) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
