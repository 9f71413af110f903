"""standins/secretsmanager.py - AWS Secrets Manager, on the IAM stand-in's port.

X-Amz-Target: secretsmanager.<Action>, JSON 1.1 (jsonproto.py), signed for
service "secretsmanager" in any region; each region has its own secrets.
Behaviour follows the Secrets Manager API Reference (the documentation
strings of botocore's secretsmanager model); error wording comes from
captures quoted in public issue threads, marked UNSURE where only an
emulator's wording was found.

Actions
-------
CreateSecret (Name, SecretString | SecretBinary, KmsKeyId, Tags, Description,
    ClientRequestToken): the ARN is arn:<partition>:secretsmanager:<region>:
    <account>:secret:<Name>-<6 random characters>; a value makes the first
    version, labelled AWSCURRENT.
PutSecretValue (SecretId = name, ARN or partial ARN; ClientRequestToken;
    VersionStages): a new version; without VersionStages it becomes
    AWSCURRENT and the version that had AWSCURRENT gets AWSPREVIOUS; with
    VersionStages it carries exactly those labels (each taken from the
    version that had it; AWSCURRENT moved still leaves AWSPREVIOUS behind).
    The token is the VersionId: the same token with the same value changes
    nothing and answers the existing version, with another value it is
    ResourceExistsException.
GetSecretValue (VersionId, VersionStage; default AWSCURRENT)
DescribeSecret: ARN, Name, Description, KmsKeyId (only when given), dates,
    Tags, VersionIdsToStages (versions that still carry a label; a version
    without one is "deprecated" and left out, as AWS does)
UpdateSecretVersionStage (VersionStage, MoveToVersionId, RemoveFromVersionId)
    with AWS's rules: a label attached elsewhere needs RemoveFromVersionId
    naming that version; moving AWSCURRENT moves AWSPREVIOUS to the version
    it left; AWSCURRENT cannot just be removed.
DeleteSecret (RecoveryWindowInDays 7..30, default 30; ForceDeleteWithoutRecovery):
    scheduled for deletion until DeletionDate (the stand-in's clock: advance()
    past it and the secret is gone); meanwhile GetSecretValue, PutSecretValue,
    UpdateSecretVersionStage fail with InvalidRequestException, CreateSecret
    of the name too, DescribeSecret shows DeletedDate, RestoreSecret brings
    it back.  A forced delete removes it at once.
RestoreSecret, TagResource, UntagResource, ListSecrets (IncludePlannedDeletion,
    Filters on name / tag-key / tag-value / description, MaxResults, NextToken).
Other actions of the model answer 501 FakeIAMNotImplemented.

Seen from Python: iam.secret(name, region=None) -> dict (name, arn, region,
description, kms_key_id, tags, created_date, last_changed_date,
last_accessed_date, deleted_date, deletion_date, versions [{id, secret_string
| secret_binary, stages, created_date, deprecated}], stages {label: version
id}) or None; iam.secrets(region=None) -> list of those.  Dates are epoch
seconds.  Versions without a label are kept (AWS keeps up to 100 of them and
deletes the older ones later; the stand-in never does).
"""

import base64
import copy
import string
import uuid

from .jsonproto import JSONError, epoch, not_implemented

CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
ARN_SUFFIX = string.ascii_letters + string.digits
NAME_CHARS = set(string.ascii_letters + string.digits + "/_+=.@-")


def _not_found(msg="Secrets Manager can't find the specified secret."):
    return JSONError("ResourceNotFoundException", msg, 400)


def _invalid_request(msg):
    return JSONError("InvalidRequestException", msg, 400)


def _invalid_parameter(msg):
    return JSONError("InvalidParameterException", msg, 400)


# What Secrets Manager answers when the caller may not use the secret's KMS
# key (aws/aws-cdk#7677, aws-samples/aws-secrets-manager-rotation-lambdas#53).
KMS_DENIED = "Access to KMS is not allowed"
MARKED_DELETED = ("You can't perform this operation on the secret because it was "
                  "marked for deletion.")    # external-secrets/kubernetes-external-secrets#114


class SecretsManagerMixin:
    """FakeIAM's Secrets Manager (see the module docstring)."""

    # ------------------------------------------------------------ Python API
    def secrets(self, region=None):
        with self._lock:
            self._sm_purge()
            return [self._sm_view(s) for s in self._store("secrets")
                    if region is None or s["region"] == region]

    def secret(self, name, region=None):
        """The secret called `name` (in `region`, or in any region when None
        and only one has it) as a dict, or None."""
        found = [s for s in self.secrets(region) if s["name"] == name]
        if len(found) > 1:
            raise ValueError(f"secret {name!r} exists in several regions; pass region=")
        return found[0] if found else None

    @staticmethod
    def _sm_view(s):
        out = copy.deepcopy(s)
        for v in out["versions"]:
            v["deprecated"] = not v["stages"]
        out["stages"] = {st: v["id"] for v in out["versions"] for st in v["stages"]}
        return out

    # ------------------------------------------------------------- helpers
    def _sm_now(self):
        return epoch(self.now())

    def _sm_purge(self):
        """Secrets whose recovery window has ended are gone."""
        now = self._sm_now()
        lst = self._store("secrets")
        lst[:] = [s for s in lst if not (s["deletion_date"] is not None
                                         and s["deletion_date"] <= now)]

    def _sm_arn_prefix(self, region):
        return f"arn:{self.partition}:secretsmanager:{region}:{self.account_id}:secret:"

    def _sm_find(self, ctx, secret_id):
        """SecretId (name, full ARN or partial ARN: the ARN without the
        random suffix) -> the secret in the request's region, or None."""
        self._sm_purge()
        prefix = self._sm_arn_prefix(ctx.region)
        for s in self._store("secrets"):
            if s["region"] != ctx.region:
                continue
            if secret_id in (s["name"], s["arn"]):
                return s
            # UNSURE: partial ARNs are matched on the name only.
            if secret_id.startswith(prefix) and secret_id[len(prefix):] == s["name"]:
                return s
        return None

    def _sm_get(self, ctx, live=True):
        s = self._sm_find(ctx, ctx.params["SecretId"])
        if s is None:
            raise _not_found()
        if live and s["deleted_date"] is not None:
            raise _invalid_request(MARKED_DELETED)
        return s

    def _sm_resources(self, ctx):
        """What the request is authorized on (jsonproto._authorize_json)."""
        a = ctx.params
        if ctx.action == "ListSecrets":
            return ["*"]
        if ctx.action == "CreateSecret":
            # UNSURE: IAM sees the new secret's ARN; its suffix is not known
            # yet, so a policy on "...:secret:NAME-*" matches it.
            return [self._sm_arn_prefix(ctx.region) + a["Name"] + "-??????"]
        s = self._sm_find(ctx, a["SecretId"])
        if s is not None:
            return [s["arn"]]
        sid = a["SecretId"]
        if sid.startswith("arn:"):
            return [sid]
        # A name no secret has: AWS authorizes it on the ARN such a secret
        # would get, the name and six random characters (a denial names
        # one: jenkinsci/aws-secrets-manager-credentials-provider-plugin#74,
        # "arn:...:secret:ID_TEST-TAhdQc" for a secret that does not exist),
        # so that a policy on "secret:NAME-??????" covers it.
        return [self._sm_arn_prefix(ctx.region) + sid + "-" + self._rng.chars(ARN_SUFFIX, 6)]

    def _sm_implied(self, ctx, resources):
        """CreateSecret with Tags needs secretsmanager:TagResource too
        (CreateSecret's "Required permissions" in the API Reference)."""
        if ctx.action == "CreateSecret" and ctx.params.get("Tags"):
            return [("secretsmanager:TagResource", arn) for arn in resources]
        return []

    @staticmethod
    def _sm_value(a):
        """(kind, value) of the request's SecretString or SecretBinary."""
        if a.get("SecretString") is not None and a.get("SecretBinary") is not None:
            # UNSURE: wording (moto's).
            raise _invalid_parameter("You can't specify both a binary secret value and "
                                     "a string secret value in the same secret.")
        if a.get("SecretString") is not None:
            return "secret_string", a["SecretString"]
        if a.get("SecretBinary") is not None:
            return "secret_binary", a["SecretBinary"]
        return None, None

    def _sm_new_version(self, s, token, kind, value, stages):
        """Add a version with `stages`, taking each label from the version
        that had it; AWSCURRENT taken leaves AWSPREVIOUS on its old version."""
        now = self._sm_now()
        v = {"id": token or str(uuid.UUID(bytes=self._rng.bytes(16), version=4)),
             kind: value, "stages": [], "created_date": now}
        if not s["versions"] and CURRENT not in stages:
            # "If this operation creates the first version for the secret,
            # then Secrets Manager automatically attaches the staging label
            # AWSCURRENT to it" (PutSecretValue).
            stages = list(stages) + [CURRENT]
        s["versions"].append(v)
        for st in stages:
            self._sm_attach(s, st, v)
        s["last_changed_date"] = now
        return v

    def _sm_attach(self, s, stage, v):
        old = next((x for x in s["versions"] if stage in x["stages"]), None)
        if old is v:
            return
        if old is not None:
            old["stages"].remove(stage)
        v["stages"].append(stage)
        if stage == CURRENT and old is not None:
            self._sm_attach(s, PREVIOUS, old)

    @staticmethod
    def _sm_version_of(s, version_id):
        return next((v for v in s["versions"] if v["id"] == version_id), None)

    @staticmethod
    def _sm_same_value(v, kind, value):
        return kind is not None and v.get(kind) == value and \
            v.get("secret_string" if kind == "secret_binary" else "secret_binary") is None

    @staticmethod
    def _sm_check_tags(tags):
        for t in tags or []:
            if t.get("Key") is None or t.get("Value") is None:
                # UNSURE: wording.
                raise _invalid_parameter("You must provide both a key and a value for "
                                         "each tag.")

    # -------------------------------------------------------------- actions
    def _sm_CreateSecret(self, ctx):
        a = ctx.params
        name = a["Name"]
        if not set(name) <= NAME_CHARS:
            # UNSURE: wording.
            raise JSONError("ValidationException",
                            "Invalid name. Must be a valid name containing alphanumeric "
                            "characters, or any of the following: -/_+=.@!", 400)
        kind, value = self._sm_value(a)
        self._sm_check_tags(a.get("Tags"))
        token = a.get("ClientRequestToken")
        s = self._sm_find(ctx, name)
        if s is None and kind is not None:
            # "To encrypt the secret with a KMS key other than
            # aws/secretsmanager, you need kms:GenerateDataKey and
            # kms:Decrypt permission to the key" (CreateSecret).
            self._kms_use(ctx, a.get("KmsKeyId"), "kms:GenerateDataKey", "kms:Decrypt",
                          message=KMS_DENIED)
        if s is not None:
            if s["deleted_date"] is not None:
                # redpanda-data/console#1835, aws/copilot-cli#655
                raise _invalid_request("You can't create this secret because a secret "
                                       "with this name is already scheduled for deletion.")
            v = self._sm_version_of(s, token) if token else None
            if v is not None and self._sm_same_value(v, kind, value):
                # The documented idempotency: "If a version with this value
                # already exists and the version SecretString and SecretBinary
                # values are the same as those in the request, then the request
                # is ignored."  UNSURE: what a repeated CreateSecret answers.
                return {"ARN": s["arn"], "Name": s["name"], "VersionId": v["id"]}
            raise JSONError("ResourceExistsException",
                            f"The operation failed because the secret {name} already "
                            "exists.", 400)
        now = self._sm_now()
        s = {"name": name, "region": ctx.region,
             "arn": self._sm_arn_prefix(ctx.region) + name + "-" + self._rng.chars(ARN_SUFFIX, 6),
             "description": a.get("Description"), "kms_key_id": a.get("KmsKeyId"),
             "tags": [{"Key": t["Key"], "Value": t["Value"]} for t in a.get("Tags") or []],
             "created_date": now, "last_changed_date": now, "last_accessed_date": None,
             "deleted_date": None, "deletion_date": None, "versions": []}
        self._store("secrets").append(s)
        out = {"ARN": s["arn"], "Name": name}
        if kind is not None:
            out["VersionId"] = self._sm_new_version(s, token, kind, value, [CURRENT])["id"]
        return out

    def _sm_PutSecretValue(self, ctx):
        a = ctx.params
        s = self._sm_get(ctx)
        kind, value = self._sm_value(a)
        if kind is None:
            # UNSURE: code and wording.
            raise _invalid_request("You must provide either SecretString or SecretBinary.")
        token = a.get("ClientRequestToken")
        v = self._sm_version_of(s, token) if token else None
        if v is None:
            # A new version is encrypted with a new data key.
            self._kms_use(ctx, s["kms_key_id"], "kms:GenerateDataKey", message=KMS_DENIED)
        if v is not None:
            if not self._sm_same_value(v, kind, value):
                # UNSURE: wording (moto's); the rule is the API Reference's.
                raise JSONError("ResourceExistsException",
                                "You can't modify an existing version, you can only "
                                "create a new version.", 400)
        else:
            v = self._sm_new_version(s, token, kind, value, a.get("VersionStages") or [CURRENT])
        return {"ARN": s["arn"], "Name": s["name"], "VersionId": v["id"],
                "VersionStages": list(v["stages"])}

    def _sm_GetSecretValue(self, ctx):
        a = ctx.params
        s = self._sm_get(ctx)
        vid, stage = a.get("VersionId"), a.get("VersionStage")
        if vid is not None:
            v = self._sm_version_of(s, vid)
            if v is None or (stage is not None and stage not in v["stages"]):
                # UNSURE: wording.
                raise _not_found("Secrets Manager can't find the specified secret value "
                                 f"for VersionId: {vid}")
        else:
            stage = stage or CURRENT
            v = next((x for x in s["versions"] if stage in x["stages"]), None)
            if v is None:
                # boto/boto3#2794: a secret without a value answers this.
                raise _not_found("Secrets Manager can't find the specified secret value "
                                 f"for staging label: {stage}")
        self._kms_use(ctx, s["kms_key_id"], "kms:Decrypt", message=KMS_DENIED)
        # LastAccessedDate is a date ("the date that the secret was last accessed").
        now = self._sm_now()
        s["last_accessed_date"] = float(int(now) - int(now) % 86400)
        out = {"ARN": s["arn"], "Name": s["name"], "VersionId": v["id"]}
        if v.get("secret_string") is not None:
            out["SecretString"] = v["secret_string"]
        else:
            out["SecretBinary"] = v["secret_binary"]
        out.update({"VersionStages": list(v["stages"]), "CreatedDate": v["created_date"]})
        return out

    def _sm_DescribeSecret(self, ctx):
        return self._sm_describe(self._sm_get(ctx, live=False))

    @staticmethod
    def _sm_describe(s):
        out = {"ARN": s["arn"], "Name": s["name"]}
        if s["description"] is not None:
            out["Description"] = s["description"]
        if s["kms_key_id"] is not None:
            out["KmsKeyId"] = s["kms_key_id"]
        out["LastChangedDate"] = s["last_changed_date"]
        if s["last_accessed_date"] is not None:
            out["LastAccessedDate"] = s["last_accessed_date"]
        if s["deleted_date"] is not None:
            # UNSURE: whether DeletedDate is when DeleteSecret was called (here)
            # or the end of the recovery window (DeleteSecret's DeletionDate).
            out["DeletedDate"] = s["deleted_date"]
        if s["tags"]:
            out["Tags"] = copy.deepcopy(s["tags"])
        stages = {v["id"]: list(v["stages"]) for v in s["versions"] if v["stages"]}
        if stages:
            out["VersionIdsToStages"] = stages
        out["CreatedDate"] = s["created_date"]
        return out

    def _sm_UpdateSecretVersionStage(self, ctx):
        a = ctx.params
        s = self._sm_get(ctx)
        stage, move, remove = a["VersionStage"], a.get("MoveToVersionId"), a.get("RemoveFromVersionId")
        holder = next((v for v in s["versions"] if stage in v["stages"]), None)
        target = None
        if move is not None:
            target = self._sm_version_of(s, move)
            if target is None:
                # UNSURE: code and wording.
                raise _invalid_parameter(f"The version {move} doesn't exist for the "
                                         f"secret {s['name']}.")
        if holder is not None and holder is not target:
            # Wording: floci-io/floci#3247 (an emulator).  UNSURE.
            if remove is None:
                raise _invalid_parameter(
                    f"The parameter RemoveFromVersionId can't be empty. Staging label "
                    f"{stage} is currently attached to version {holder['id']}, so you "
                    "must explicitly reference that version in RemoveFromVersionId.")
            if remove != holder["id"]:
                raise _invalid_parameter(
                    f"When you move staging label {stage}, if you specify "
                    "RemoveFromVersionId, it must be set to the version that currently "
                    f"has the staging label {stage}.")
        elif holder is None and remove is not None:
            # UNSURE: code and wording.
            raise _invalid_parameter(f"The staging label {stage} isn't attached to the "
                                     f"version {remove}.")
        if target is None:
            if stage == CURRENT and holder is not None:
                # UNSURE: wording.
                raise _invalid_parameter("You can only move staging label AWSCURRENT to "
                                         "a different secret version. It can't be "
                                         "completely removed.")
            if holder is not None:
                holder["stages"].remove(stage)
        else:
            self._sm_attach(s, stage, target)
        s["last_changed_date"] = self._sm_now()
        return {"ARN": s["arn"], "Name": s["name"]}

    def _sm_DeleteSecret(self, ctx):
        a = ctx.params
        force = a.get("ForceDeleteWithoutRecovery", False)
        window = a.get("RecoveryWindowInDays")
        if force and window is not None:
            # UNSURE: wording.
            raise _invalid_parameter("You can't use ForceDeleteWithoutRecovery in "
                                     "conjunction with RecoveryWindowInDays.")
        if window is not None and not 7 <= window <= 30:
            # UNSURE: wording.
            raise _invalid_parameter("The RecoveryWindowInDays value must be between 7 "
                                     "and 30 days (inclusive).")
        now = self._sm_now()
        s = self._sm_find(ctx, a["SecretId"])
        if s is None:
            if force:
                # "If you forcibly delete an already deleted or nonexistent
                # secret, the operation does not return ResourceNotFoundException."
                # UNSURE: what it answers instead.
                sid = a["SecretId"]
                return {"ARN": sid if sid.startswith("arn:") else
                        self._sm_arn_prefix(ctx.region) + sid,
                        "Name": sid.rsplit(":", 1)[-1], "DeletionDate": now}
            raise _not_found()
        if force:
            self._store("secrets").remove(s)
            return {"ARN": s["arn"], "Name": s["name"], "DeletionDate": now}
        if s["deleted_date"] is not None:
            # UNSURE: wording (moto's).
            raise _invalid_request("You tried to perform the operation on a secret "
                                   "that's currently marked deleted.")
        s["deleted_date"] = now
        s["deletion_date"] = now + 86400 * (30 if window is None else window)
        return {"ARN": s["arn"], "Name": s["name"], "DeletionDate": s["deletion_date"]}

    def _sm_RestoreSecret(self, ctx):
        s = self._sm_get(ctx, live=False)
        s["deleted_date"] = s["deletion_date"] = None
        return {"ARN": s["arn"], "Name": s["name"]}

    def _sm_TagResource(self, ctx):
        s = self._sm_get(ctx, live=False)
        self._sm_check_tags(ctx.params["Tags"])
        for t in ctx.params["Tags"]:
            s["tags"] = [x for x in s["tags"] if x["Key"] != t["Key"]]
            s["tags"].append({"Key": t["Key"], "Value": t["Value"]})
        return {}

    def _sm_UntagResource(self, ctx):
        s = self._sm_get(ctx, live=False)
        keys = set(ctx.params["TagKeys"])
        s["tags"] = [x for x in s["tags"] if x["Key"] not in keys]
        return {}

    def _sm_ListSecrets(self, ctx):
        a = ctx.params
        self._sm_purge()
        out = []
        for s in self._store("secrets"):
            if s["region"] != ctx.region:
                continue
            if s["deleted_date"] is not None and not a.get("IncludePlannedDeletion"):
                continue
            if all(self._sm_filter(s, f) for f in a.get("Filters") or []):
                out.append(s)
        key = {"name": "name", "created-date": "created_date",
               "last-changed-date": "last_changed_date",
               "last-accessed-date": "last_accessed_date"}[a.get("SortBy", "created-date")]
        # UNSURE: the default order (the model says "listed by CreatedDate").
        out.sort(key=lambda s: (s[key] or 0, s["name"]),
                 reverse=a.get("SortOrder", "desc") == "desc")
        start = 0
        if a.get("NextToken"):
            try:
                start = int(base64.b64decode(a["NextToken"]).decode())
            except ValueError:
                raise JSONError("InvalidNextTokenException", "The NextToken value is "
                                "not valid.", 400)     # UNSURE: wording
        n = a.get("MaxResults", 100)
        page = out[start:start + n]
        res = {"SecretList": [self._sm_list_entry(x) for x in page]}
        if start + n < len(out):
            res["NextToken"] = base64.b64encode(str(start + n).encode()).decode()
        return res

    @staticmethod
    def _sm_filter(s, f):
        key, values = f.get("Key"), f.get("Values") or []
        texts = {"name": [s["name"]], "description": [s["description"] or ""],
                 "tag-key": [t["Key"] for t in s["tags"]],
                 "tag-value": [t["Value"] for t in s["tags"]]}.get(key)
        if texts is None:
            raise not_implemented("secretsmanager", f"ListSecrets filter {key}")
        # Prefix match; a value starting with ! negates (API Reference, Filter).
        for v in values:
            neg = v.startswith("!")
            hit = any(t.startswith(v[1:] if neg else v) for t in texts)
            if hit != neg:
                return True
        return False

    def _sm_list_entry(self, s):
        e = self._sm_describe(s)
        stages = e.pop("VersionIdsToStages", None)
        if stages:
            e["SecretVersionsToStages"] = stages
        return e
