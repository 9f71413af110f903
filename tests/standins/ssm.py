"""standins/ssm.py - SSM Parameter Store, on the IAM stand-in's port.

X-Amz-Target: AmazonSSM.<Action>, JSON 1.1 (jsonproto.py), signed for
service "ssm" in any region; each region has its own parameters.
Behaviour follows the Systems Manager API Reference (the documentation
strings of botocore's ssm model); error wording comes from captures quoted
in public issue threads, marked UNSURE where none was found.

Actions
-------
PutParameter (Name, Value, Type String | StringList | SecureString, KeyId,
    Overwrite, Tags, Description, Tier, AllowedPattern): Version 1 on
    creation, one more on every overwrite; an existing name without
    Overwrite is ParameterAlreadyExists; Tags with Overwrite is AWS's
    ValidationException; a new parameter needs a Type.  SecureString
    parameters keep KeyId (default alias/aws/ssm).  Names: leading and
    trailing spaces are dropped; a-zA-Z0-9_.- and /; not prefixed with
    "aws" or "ssm"; a name with a / must start with one (a hierarchy); at
    most 15 levels (HierarchyLevelLimitExceededException).
GetParameter (Name, or its ARN, optionally "name:VERSION"; WithDecryption),
GetParameters (up to 10 Names: Parameters in alphabetical order,
    InvalidParameters for the missing ones), GetParametersByPath (Path,
    Recursive, WithDecryption, MaxResults <= 10 (default 10), NextToken):
    a SecureString read without WithDecryption shows an opaque
    base64 "ciphertext" (deterministic per version), not the value.
DeleteParameter (ParameterNotFound), DeleteParameters (DeletedParameters /
    InvalidParameters), AddTagsToResource / ListTagsForResource /
    RemoveTagsFromResource (ResourceType Parameter).
Other actions of the model answer 501 FakeIAMNotImplemented.

Seen from Python: iam.parameter(name, region=None) -> dict (name, region,
type, value (in clear), version, key_id, tags, tier, description,
last_modified_date (epoch seconds), history [{version, type, value, key_id,
last_modified_date}]) or None; iam.parameters(region=None) -> list.
"""

import base64
import copy
import hashlib
import json
import re

from .jsonproto import JSONError, epoch, not_implemented

DEFAULT_KEY = "alias/aws/ssm"
MAX_LEVELS = 15
NAME_RX = re.compile(r"[a-zA-Z0-9_.\-/]+")
# aws-sdk-php#1952 (an @ in the name), aws-ia/terraform-aws-control_tower_
# account_factory#467 (a name starting with ssm).
BAD_NAME = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
            "If formed as a path, it can consist of sub-paths divided by slash symbol; "
            "each sub-path can be formed as a mix of letters, numbers and the "
            "following 3 symbols .-_")
VALUE_LIMITS = {"Standard": 4096, "Advanced": 8192}


def _validation(msg):
    return JSONError("ValidationException", msg, 400)


def _not_found():
    # No message: the AWS CLI prints "... operation: " (see jsonproto.py).
    return JSONError("ParameterNotFound", None, 400)


class SSMMixin:
    """FakeIAM's Parameter Store (see the module docstring)."""

    # ------------------------------------------------------------ Python API
    def parameters(self, region=None):
        with self._lock:
            return [copy.deepcopy(p) for p in self._store("parameters")
                    if region is None or p["region"] == region]

    def parameter(self, name, region=None):
        """The parameter `name` (in `region`, or in any region when None and
        only one has it) as a dict, or None."""
        found = [p for p in self.parameters(region) if p["name"] == name]
        if len(found) > 1:
            raise ValueError(f"parameter {name!r} exists in several regions; pass region=")
        return found[0] if found else None

    # ------------------------------------------------------------- helpers
    def _ssm_arn(self, region, name):
        return (f"arn:{self.partition}:ssm:{region}:{self.account_id}:parameter/"
                f"{name.lstrip('/')}")

    def _ssm_find(self, ctx, name):
        for p in self._store("parameters"):
            if p["region"] == ctx.region and p["name"] == name:
                return p
        return None

    def _ssm_lookup(self, ctx, ref):
        """Name, ARN, with ":VERSION" -> (parameter, version entry, selector);
        (None, None, None) when there is no such parameter or version."""
        ref = ref.strip()
        prefix = self._ssm_arn(ctx.region, "")
        name = ref
        if ref.startswith(prefix):
            rest = ref[len(prefix):]
            cand = [n for n in (rest, "/" + rest) if self._ssm_find(ctx, n.partition(":")[0])]
            name = cand[0] if cand else rest
        name, sep, selector = name.partition(":")
        p = self._ssm_find(ctx, name)
        if p is None:
            return None, None, None
        if not sep:
            return p, p["history"][-1], None
        if not selector.isdigit():
            # UNSURE: labels are not modelled; a label is never found.
            return None, None, None
        h = next((x for x in p["history"] if x["version"] == int(selector)), None)
        if h is None:
            # UNSURE: wording.
            raise JSONError("ParameterVersionNotFound",
                            f"Systems Manager could not find version {selector} of "
                            f"{name}. Verify the version and try again.", 400)
        return p, h, ":" + selector

    def _ssm_resources(self, ctx):
        a, r = ctx.params, ctx.region
        if ctx.action in ("GetParameters", "DeleteParameters"):
            return [self._ssm_arn(r, n.partition(":")[0]) for n in a["Names"]]
        if ctx.action == "GetParametersByPath":
            return [self._ssm_arn(r, a["Path"])]
        if ctx.action.endswith("Resource"):
            return [self._ssm_arn(r, a["ResourceId"])]
        name = a["Name"].strip()
        return [name if name.startswith("arn:") else self._ssm_arn(r, name.partition(":")[0])]

    def _ssm_implied(self, ctx, resources):
        """PutParameter with Tags needs ssm:AddTagsToResource too (UNSURE:
        not in the API Reference; a stack that makes a tagged parameter is
        refused without it: aws-amplify/amplify-studio#1094)."""
        if ctx.action == "PutParameter" and ctx.params.get("Tags"):
            return [("ssm:AddTagsToResource", arn) for arn in resources]
        return []

    def _ssm_decrypt(self, ctx, p, h, decrypt):
        """A SecureString read WithDecryption: kms:Decrypt on its key
        ("Restricting decryption of SecureString parameter values": any
        principal that retrieves the decrypted value needs it, whichever
        operation it calls)."""
        if decrypt and h["type"] == "SecureString":
            # UNSURE: the wording of SSM's answer.
            self._kms_use(ctx, h["key_id"], "kms:Decrypt")

    @staticmethod
    def _ssm_check_name(name):
        if not NAME_RX.fullmatch(name) or name.lstrip("/").lower().startswith(("aws", "ssm")):
            raise _validation(BAD_NAME)
        if "/" in name and not name.startswith("/"):
            # UNSURE: wording.
            raise _validation("Parameter name must be a fully qualified name.")
        if "//" in name or (name.endswith("/") and name != "/"):
            raise _validation(BAD_NAME)     # UNSURE: code and wording
        if len(name.strip("/").split("/")) > MAX_LEVELS:
            # UNSURE: wording.
            raise JSONError("HierarchyLevelLimitExceededException",
                            f"Parameter name: {name} exceeds the maximum hierarchy "
                            f"depth of {MAX_LEVELS} levels.", 400)

    @staticmethod
    def _ssm_ciphertext(p, h):
        """What a SecureString shows without WithDecryption: opaque, base64,
        stable for one version (a KMS ciphertext blob starts "AQICAH")."""
        seed = json.dumps([p["region"], p["name"], h["version"], h["key_id"], h["value"]])
        raw = b"\x01\x02\x02\x00x" + hashlib.sha256(seed.encode()).digest() * 3
        return base64.b64encode(raw).decode()

    def _ssm_view(self, ctx, p, h, decrypt, selector=None):
        value = h["value"]
        if h["type"] == "SecureString" and not decrypt:
            value = self._ssm_ciphertext(p, h)
        out = {"Name": p["name"], "Type": h["type"], "Value": value,
               "Version": h["version"]}
        if selector:
            out["Selector"] = selector
        out.update({"LastModifiedDate": h["last_modified_date"],
                    "ARN": self._ssm_arn(p["region"], p["name"]),
                    "DataType": p["data_type"]})
        return out

    # -------------------------------------------------------------- actions
    def _ssm_PutParameter(self, ctx):
        a = ctx.params
        name = a["Name"].strip()
        self._ssm_check_name(name)
        if a.get("Tags") and a.get("Overwrite"):
            # hashicorp/terraform-provider-aws#18550, getmoto/moto#4283
            raise _validation("Invalid request: tags and overwrite can't be used together. "
                              "To create a parameter with tags, please remove overwrite "
                              "flag. To update tags for an existing parameter, please use "
                              "AddTagsToResource or RemoveTagsFromResource.")
        p = self._ssm_find(ctx, name)
        if p is not None and not a.get("Overwrite"):
            # garystafford/emr-demo#1, binxio/cfn-secret-provider#10
            raise JSONError("ParameterAlreadyExists",
                            "The parameter already exists. To overwrite this value, set "
                            "the overwrite option in the request to true.", 400)
        ptype = a.get("Type") or (p["type"] if p else None)
        if ptype is None:
            # UNSURE: wording.
            raise _validation("A parameter type is required when you create a parameter.")
        if p is not None and a.get("Type") and a["Type"] != p["type"]:
            # The model's HierarchyTypeMismatchException: "you can't change a
            # parameter from a String type to a SecureString type".  UNSURE:
            # whether AWS still refuses it, and the wording.
            raise JSONError("HierarchyTypeMismatchException",
                            "Parameter Store doesn't support changing a parameter type "
                            f"in a hierarchy. Parameter {name} is a {p['type']}.", 400)
        if a.get("KeyId") and ptype != "SecureString":
            # UNSURE: code and wording.
            raise _validation("KeyId is required for SecureString type parameter only.")
        tier = a.get("Tier") or (p["tier"] if p else "Standard")
        value = a["Value"]
        if tier == "Intelligent-Tiering":
            tier = "Advanced" if len(value) > VALUE_LIMITS["Standard"] else "Standard"
        if len(value) > VALUE_LIMITS[tier]:
            # UNSURE: wording.
            raise _validation(f"{tier} tier parameters support a maximum parameter value "
                              f"of {VALUE_LIMITS[tier]} characters.")
        pattern = a.get("AllowedPattern", p["allowed_pattern"] if p else None)
        if pattern:
            try:
                ok = re.search(pattern, value) is not None
            except re.error:
                raise JSONError("InvalidAllowedPatternException",
                                "The request does not meet the regular expression "
                                "requirement.", 400)     # UNSURE: wording
            if not ok:
                raise JSONError("ParameterPatternMismatchException",
                                f"Parameter value, cannot be validated against "
                                f"allowedPattern: {pattern}", 400)     # UNSURE: wording
        key_id = None
        if ptype == "SecureString":
            key_id = a.get("KeyId") or (p["key_id"] if p and p["key_id"] else DEFAULT_KEY)
            # A standard parameter is encrypted by KMS Encrypt under the key
            # itself (no data key).  UNSURE: the wording of SSM's answer.
            self._kms_use(ctx, key_id, "kms:Encrypt")
        now = epoch(self.now())
        if p is None:
            p = {"name": name, "region": ctx.region, "version": 0, "tags": [],
                 "data_type": a.get("DataType") or "text", "history": []}
            for t in a.get("Tags") or []:
                p["tags"] = [x for x in p["tags"] if x["Key"] != t["Key"]]
                p["tags"].append({"Key": t["Key"], "Value": t["Value"]})
            self._store("parameters").append(p)
        # UNSURE: an overwrite with the same value still makes a new version.
        p.update({"type": ptype, "value": value, "key_id": key_id, "tier": tier,
                  "version": p["version"] + 1, "last_modified_date": now,
                  "description": a.get("Description", p.get("description")),
                  "allowed_pattern": pattern})
        p["history"].append({"version": p["version"], "type": ptype, "value": value,
                             "key_id": key_id, "last_modified_date": now})
        del p["history"][:-100]     # Parameter Store keeps 100 versions
        return {"Version": p["version"], "Tier": tier}

    def _ssm_GetParameter(self, ctx):
        p, h, sel = self._ssm_lookup(ctx, ctx.params["Name"])
        if p is None:
            raise _not_found()
        self._ssm_decrypt(ctx, p, h, ctx.params.get("WithDecryption"))
        return {"Parameter": self._ssm_view(ctx, p, h, ctx.params.get("WithDecryption"), sel)}

    def _ssm_GetParameters(self, ctx):
        found, invalid = [], []
        for ref in ctx.params["Names"]:
            try:
                p, h, sel = self._ssm_lookup(ctx, ref)
            except JSONError:
                p = None
            if p is None:
                invalid.append(ref)
            else:
                self._ssm_decrypt(ctx, p, h, ctx.params.get("WithDecryption"))
                found.append(self._ssm_view(ctx, p, h, ctx.params.get("WithDecryption"), sel))
        found.sort(key=lambda x: x["Name"])
        return {"Parameters": found, "InvalidParameters": invalid}

    def _ssm_GetParametersByPath(self, ctx):
        a = ctx.params
        if a.get("ParameterFilters"):
            raise not_implemented("ssm", "GetParametersByPath ParameterFilters")
        path = a["Path"].strip()
        if not path.startswith("/"):
            # UNSURE: code and wording.
            raise _validation("The parameter doesn't meet the parameter name "
                              "requirements. The parameter name must begin with a "
                              "forward slash \"/\".")
        base = path.rstrip("/") + "/"
        out = []
        for p in self._store("parameters"):
            if p["region"] != ctx.region or not p["name"].startswith(base):
                continue
            if not a.get("Recursive") and "/" in p["name"][len(base):]:
                continue
            out.append(p)
        out.sort(key=lambda p: p["name"])
        scope = hashlib.sha256(f"{ctx.region}\0{base}\0{bool(a.get('Recursive'))}"
                               .encode()).hexdigest()[:8]
        start = 0
        if "NextToken" in a:
            try:
                tok = json.loads(base64.b64decode(a["NextToken"], validate=True))
                if tok["s"] != scope:
                    raise ValueError
                start = int(tok["o"])
            except (ValueError, KeyError, TypeError):
                # UNSURE: wording.
                raise JSONError("InvalidNextToken", "The specified token isn't valid.", 400)
        n = a.get("MaxResults", 10)
        page = out[start:start + n]
        for p in page:
            self._ssm_decrypt(ctx, p, p["history"][-1], a.get("WithDecryption"))
        res = {"Parameters": [self._ssm_view(ctx, p, p["history"][-1], a.get("WithDecryption"))
                              for p in page]}
        if start + n < len(out):
            res["NextToken"] = base64.b64encode(json.dumps(
                {"s": scope, "o": start + n}).encode()).decode()
        return res

    def _ssm_DeleteParameter(self, ctx):
        p = self._ssm_find(ctx, ctx.params["Name"].strip())
        if p is None:
            raise _not_found()
        self._store("parameters").remove(p)
        return {}

    def _ssm_DeleteParameters(self, ctx):
        deleted, invalid = [], []
        for name in ctx.params["Names"]:
            p = self._ssm_find(ctx, name.strip())
            if p is None:
                invalid.append(name)
            else:
                self._store("parameters").remove(p)
                deleted.append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def _ssm_tagged(self, ctx):
        a = ctx.params
        if a["ResourceType"] != "Parameter":
            raise not_implemented("ssm", f"tags on {a['ResourceType']}")
        p = self._ssm_find(ctx, a["ResourceId"].strip())
        if p is None:
            raise JSONError("InvalidResourceId", None, 400)
        return p

    def _ssm_AddTagsToResource(self, ctx):
        p = self._ssm_tagged(ctx)
        tags = list(p["tags"])
        for t in ctx.params["Tags"]:
            tags = [x for x in tags if x["Key"] != t["Key"]]
            tags.append({"Key": t["Key"], "Value": t["Value"]})
        if len(tags) > 50:      # "Most resources can have a maximum of 50 tags."
            raise JSONError("TooManyTagsError", None, 400)
        p["tags"] = tags
        return {}

    def _ssm_RemoveTagsFromResource(self, ctx):
        p = self._ssm_tagged(ctx)
        keys = set(ctx.params["TagKeys"])
        p["tags"] = [x for x in p["tags"] if x["Key"] not in keys]
        return {}

    def _ssm_ListTagsForResource(self, ctx):
        return {"TagList": copy.deepcopy(self._ssm_tagged(ctx)["tags"])}
