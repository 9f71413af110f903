"""standins/state.py - what the IAM stand-in knows, its clock, and the seeding API.

The state is one JSON-able dict (users with their keys, policies and other
credentials, groups, managed policies, virtual MFA devices, roles, session
callers, deny lists; Secrets Manager's secrets and SSM's parameters, each
with its region), changed only with FakeIAM._lock held, and written to
state_file after every change.  Ids and secrets come from _Rng
(deterministic with seed=N).

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
    iam.add_managed_policy(arn_or_name, path="/", attachable=True, document=None)
    iam.add_caller(dict_or_spec), iam.deny(akid, patterns)
    iam.caller_with_policy(doc, name=None) -> caller dict (see sts.py)
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
"""

import copy
import datetime
import hashlib
import json
import os
import random
import string
import threading
import time
import uuid

from .protocol import iso, parse_time, utcnow

DEFAULT_ACCOUNT_ID = "123456789012"
AWS_MANAGED_POLICIES = ["AdministratorAccess", "AmazonSESFullAccess",
                        "AmazonSESReadOnlyAccess", "IAMReadOnlyAccess",
                        "IAMUserChangePassword", "ReadOnlyAccess"]
PARTITION_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1",
                    "aws-us-gov": "us-gov-west-1"}
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = string.ascii_letters + string.digits + "+/"


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
        "secrets": [],          # secretsmanager.py (each with its region)
        "parameters": [],       # ssm.py (each with its region)
    }

_FAKE_CERT_PEM = ("-----BEGIN CERTIFICATE-----\n"
                  "TUlJQkZha2VDZXJ0aWZpY2F0ZUZvclNlc2N0bFRlc3RzT25seQ==\n"
                  "-----END CERTIFICATE-----\n")
_FAKE_SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFakeKeyForSesctlTestsOnly"
                 "NotARealKey0000000000000000000000000000000000000000000000000000 test")


class StateMixin:
    """FakeIAM's state, clock and seeding (see the module docstring)."""

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

    def add_managed_policy(self, arn_or_name, path="/", attachable=True, document=None):
        """A customer managed policy (or an AWS one by ARN); `document`
        (JSON text or dict) is what a caller it is attached to may do, when
        the stand-in evaluates that caller's policies (caller_with_policy)."""
        arn = arn_or_name
        if not arn.startswith("arn:"):
            arn = f"arn:{self.partition}:iam::{self.account_id}:policy{path}{arn_or_name}"
        if document is not None and not isinstance(document, str):
            document = json.dumps(document)
        with self._lock:
            pols = self._state["managed_policies"]
            pols[:] = [p for p in pols if p["arn"] != arn]
            pols.append({"arn": arn, "name": arn.rsplit("/", 1)[-1], "path": path,
                         "policy_id": "ANPA" + self._rng.chars(B32, 17),
                         "attachable": attachable, "document": document})
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
