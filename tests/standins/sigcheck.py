"""standins/sigcheck.py - the SigV4 check every request passes (IAM, STS,
Secrets Manager, SSM).

As AWS's front end makes it: the Authorization header is parsed, and the
credential scope (date, region, service, terminator), the caller's access key
and session token and the clock skew are checked, each failure with AWS's
error code and wording; then botocore's signer (python3-botocore), told
exactly which headers the client signed, computes the signature the request
must carry.  The request log keeps what was compared (rec["sigv4"]:
canonical_request, string_to_sign, expected_signature, provided_signature,
ok) and the region the client signed for (rec["region"]).  IAM requests must
be signed for the partition's region, STS ones for any well-formed region
(or iam.sts_region), Secrets Manager and SSM ones for any well-formed region:
they are regional, and the region names the store they act on.  A key that
signs a request gets LastUsed (track_last_used).
"""

import datetime
import email.utils
import hmac
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from .jsonproto import region_ok
from .protocol import SIGV4_FMT, IAMError, parse_time


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


class _ExactHeadersSigV4(SigV4Auth):
    """botocore's SigV4 signer, told which headers the client signed."""

    def __init__(self, credentials, service, region, signed_headers):
        super().__init__(credentials, service, region)
        self._signed_headers = signed_headers

    def headers_to_sign(self, request):
        return self._signed_headers


def hmac_equal(a, b):
    return hmac.compare_digest(a.encode(), b.encode())


class SigCheckMixin:
    """FakeIAM's signature check (see the module docstring)."""

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
        rec["region"] = region
        if expected_service == "iam":
            region_valid = region == self.signing_region
        elif expected_service == "sts":
            region_valid = self._sts_region_ok(region)
        else:   # regional services (jsonproto.py): any well-formed region
            region_valid = region_ok(region)
        if not region_valid:
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

    @staticmethod
    def _expired_message(stamp, server):
        return (f"Signature expired: {stamp.strftime(SIGV4_FMT)} is now earlier than "
                f"{(server - datetime.timedelta(minutes=15)).strftime(SIGV4_FMT)} "
                f"({server.strftime(SIGV4_FMT)} - 15 min.)")
