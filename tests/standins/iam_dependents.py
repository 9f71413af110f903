"""standins/iam_dependents.py - the IAM actions on what else hangs off a user.

Groups, login profiles, signing certificates, SSH public keys,
service-specific credentials and MFA devices: sesctl never makes them, but
`sesctl smtp disable` has to remove them first, since DeleteUser refuses
with DeleteConflict while any is left.  The actions follow the rules of
iam.py's (see its docstring); FakeIAM inherits them.
"""

import base64
import re

from .protocol import IAMError, members
from .state import B32

_TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==")


class DependentsMixin:
    """FakeIAM's actions on groups, login profiles, signing certificates, SSH
    keys, service-specific credentials and MFA devices."""

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
