#!/usr/bin/python3
"""standins/metadata.py - loopback stand-ins for the two AWS credential endpoints a
machine itself offers: the container credentials endpoint (ECS task roles at
http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, EKS Pod Identity at
$AWS_CONTAINER_CREDENTIALS_FULL_URI with an Authorization token) and the EC2
instance metadata service in IMDSv2-required mode (HttpTokens=required).

They behave like the real ones, not like whatever a client sends:

IMDSv2 (paths under /latest/)
    PUT  /latest/api/token   needs X-aws-ec2-metadata-token-ttl-seconds: 1..21600
                             (missing, not a number or out of range: 400); a
                             request with X-Forwarded-For is refused (403), as
                             IMDS refuses proxied token requests; answers the
                             token (text/plain) and echoes the TTL header.
    GET  /latest/meta-data/iam/security-credentials/        the role name
    GET  /latest/meta-data/iam/security-credentials/<role>  the JSON credentials
         {Code: Success, LastUpdated, Type: AWS-HMAC, AccessKeyId, SecretAccessKey,
          Token, Expiration}
         every GET needs X-aws-ec2-metadata-token with a live token of this
         server, else 401 (no IMDSv1); unknown paths and a missing role 404 (with
         IMDS's small HTML page); other methods 405.
    md.imds_role = None          no instance profile: the role listing is 404
    md.imds_token_status = 403   the token PUT fails with that status (e.g. 403 as
                                 behind a proxy, 404/405 as on old IMDS
                                 emulators) - the IMDSv1-fallback case
    md.imds_error = {"Code": "AssumeRoleUnauthorizedAccess", "Message": ...}
                                 the credentials GET answers that JSON (200) instead,
                                 as IMDS does when EC2 may not assume the role

Container endpoint (any other path)
    GET <md.container_path>      the JSON credentials {RoleArn, AccessKeyId,
                                 SecretAccessKey, Token, Expiration}; other paths
                                 400 {"code": "InvalidIdException", ...} as the ECS
                                 agent answers an unknown credentials id
    md.container_token = "..."   then the Authorization header must equal it:
                                 missing 401, wrong 403, with a JSON message
                                 (what the EKS Pod Identity Agent does)
    md.container_status = 500    answer that status (fault injection), forever or
                                 md.container_status_times times

Both mint session credentials (ASIA..., a secret, a token) that expire after
md.ttl seconds (default 6 h; Expiration uses the real clock unless now= pins it).
Pass iam=FakeIAM(...) and they are registered there as callers with principals
role:<container role>/<task> and role:<instance role>/<instance id>, so they work
against the IAM stand-in; md.container_creds and md.imds_creds are the dicts.
md.expired_creds() makes both sets expired (Expiration in the past).

    from standins.metadata import FakeMetadata
    with FakeMetadata(iam=iam) as md:
        md.url                      "http://127.0.0.1:PORT"
        md.container_env()          {"AWS_CONTAINER_CREDENTIALS_FULL_URI": ...,
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN": ...}
        md.requests                 [{method, path, headers, status}], a copy
        md.issued_tokens            the IMDSv2 tokens handed out

Plain HTTP on 127.0.0.1, an ephemeral port.  Run with /usr/bin/python3; in a
process of its own: /usr/bin/python3 tests/standins metadata (__main__.py).
"""

import copy
import datetime
import http.server
import json
import secrets
import socketserver
import string
import threading

IMDS_404 = ("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
            "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
            "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
            " <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n"
            "  <h1>404 - Not Found</h1>\n </body>\n</html>\n")
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
ISO = "%Y-%m-%dT%H:%M:%SZ"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = string.ascii_letters + string.digits + "+/"


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, md):
        self.md = md
        super().__init__(addr, _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.server.md._handle(self)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _any

    def reply(self, status, body, ctype="text/plain", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("Server", "EC2ws")
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()


class FakeMetadata:
    def __init__(self, iam=None, host="127.0.0.1", port=0, ttl=6 * 3600, now=None):
        self.iam = iam
        self.host, self._port, self.ttl = host, port, ttl
        self._now = now
        self._lock = threading.Lock()
        self._requests = []
        self._tokens = {}               # token -> expiry (datetime)
        self.imds_role = "sesctl-test-instance-role"
        self.imds_token_status = None
        self.imds_error = None
        self.instance_id = "i-0fa4e5c0ffee12345"
        self.container_path = "/v2/credentials/" + _rand(string.hexdigits.lower(), 8) + \
            "-fake-task-credentials"
        self.container_token = None
        self.container_status = None
        self.container_status_times = None
        self.container_role = "sesctl-test-task-role"
        self.container_creds = self._mint("ASIAFAKETESTECSTASK1",
                                          f"{self.container_role}/fake-task")
        self.imds_creds = self._mint("ASIAFAKETESTIMDSROLE",
                                     f"{self.imds_role}/{self.instance_id}")
        self._server = None

    # ------------------------------------------------------------- lifecycle
    def start(self):
        self._server = _Server((self.host, self._port), self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="fake-metadata", daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self):
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def issued_tokens(self):
        """Every IMDSv2 token handed out (secrets: a test checks none leaks)."""
        with self._lock:
            return list(self._tokens)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()

    def container_env(self):
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url + self.container_path}
        if self.container_token is not None:
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = self.container_token
        return env

    # ------------------------------------------------------------ credentials
    def now(self):
        if self._now is not None:
            return self._now
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def _mint(self, akid, principal, expires=None):
        exp = expires or (self.now() + datetime.timedelta(seconds=self.ttl))
        creds = {"AccessKeyId": akid, "SecretAccessKey": _rand(B64, 40),
                 "Token": "IQoJb3JpZ2luX2VjEFAKE" + _rand(B64, 300),
                 "Expiration": exp.strftime(ISO)}
        if self.iam is not None:
            self.iam.add_caller({"access_key_id": akid,
                                 "secret_access_key": creds["SecretAccessKey"],
                                 "session_token": creds["Token"],
                                 "principal": "role:" + principal,
                                 "expired": exp <= self.now()})
        return creds

    def expired_creds(self):
        past = self.now() - datetime.timedelta(hours=1)
        self.container_creds = self._mint(self.container_creds["AccessKeyId"],
                                          f"{self.container_role}/fake-task", past)
        self.imds_creds = self._mint(self.imds_creds["AccessKeyId"],
                                     f"{self.imds_role}/{self.instance_id}", past)

    # ---------------------------------------------------------------- serving
    def _handle(self, h):
        path = h.path.split("?", 1)[0]
        rec = {"method": h.command, "path": h.path,
               "headers": [[k, v] for k, v in h.headers.items()], "status": None}
        with self._lock:
            self._requests.append(rec)
        if path.startswith("/latest/"):
            status = self._imds(h, path)
        else:
            status = self._container(h, path)
        rec["status"] = status

    def _imds(self, h, path):
        if path == "/latest/api/token":
            if h.command != "PUT":
                # IMDS answers a GET of the token path with 405.
                h.reply(405, "", headers=[("Allow", "OPTIONS, PUT")])
                return 405
            if self.imds_token_status is not None:
                h.reply(self.imds_token_status, "")
                return self.imds_token_status
            if h.headers.get("X-Forwarded-For") is not None:
                h.reply(403, "")
                return 403
            ttl = h.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                h.reply(400, "")
                return 400
            token = "AQAEAFake" + _rand(string.ascii_letters + string.digits + "_-", 48) + "=="
            with self._lock:
                self._tokens[token] = self.now() + datetime.timedelta(seconds=int(ttl))
            h.reply(200, token, headers=[("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)])
            return 200
        if h.command not in ("GET", "HEAD"):
            h.reply(405, "")
            return 405
        token = h.headers.get("X-aws-ec2-metadata-token")
        with self._lock:
            exp = self._tokens.get(token) if token else None
        if exp is None or exp <= self.now():
            # HttpTokens=required: no IMDSv1, and a bad token is the same.
            h.reply(401, "")
            return 401
        if path == CREDS_PATH:
            if not self.imds_role:
                h.reply(404, IMDS_404, "text/html")
                return 404
            h.reply(200, self.imds_role)
            return 200
        if path == CREDS_PATH + (self.imds_role or "\0"):
            if self.imds_error:
                h.reply(200, json.dumps(dict(self.imds_error, LastUpdated=self.now().strftime(ISO)),
                                        indent=2), "text/plain")
                return 200
            doc = {"Code": "Success", "LastUpdated": self.now().strftime(ISO),
                   "Type": "AWS-HMAC"}
            doc.update(self.imds_creds)
            h.reply(200, json.dumps(doc, indent=2), "text/plain")
            return 200
        if path in ("/latest/meta-data/", "/latest/meta-data"):
            h.reply(200, "ami-id\nhostname\niam/\ninstance-id\n")
            return 200
        if path == "/latest/meta-data/instance-id":
            h.reply(200, self.instance_id)
            return 200
        h.reply(404, IMDS_404, "text/html")
        return 404

    def _container(self, h, path):
        if h.command != "GET":
            h.reply(405, json.dumps({"code": "MethodNotAllowed",
                                     "message": "Only GET is supported"}), "application/json")
            return 405
        if self.container_status is not None:
            status = self.container_status
            if self.container_status_times is not None:
                self.container_status_times -= 1
                if self.container_status_times <= 0:
                    self.container_status = None
                    self.container_status_times = None
            h.reply(status, json.dumps({"code": "ServiceUnavailable",
                                        "message": "injected"}), "application/json")
            return status
        if self.container_token is not None:
            got = h.headers.get("Authorization")
            if got is None:
                h.reply(401, json.dumps({"code": "AccessDeniedException",
                                         "message": "Authorization header is missing"}),
                        "application/json")
                return 401
            if got != self.container_token:
                h.reply(403, json.dumps({"code": "AccessDeniedException",
                                         "message": "Authorization token is not valid"}),
                        "application/json")
                return 403
        if path != self.container_path:
            h.reply(400, json.dumps({"code": "InvalidIdException",
                                     "message": "CredentialsV2Request: Credentials not found"}),
                    "application/json")
            return 400
        doc = {"RoleArn": f"arn:aws:iam::123456789012:role/{self.container_role}"}
        doc.update(self.container_creds)
        h.reply(200, json.dumps(doc), "application/json")
        return 200

