#!/usr/bin/python3
"""standins/ses_smtp.py - a local stand-in for Amazon SES's SMTP interface, for sesctl's tests.

It behaves like the SES SMTP endpoint (email-smtp.<region>.amazonaws.com), not like
whatever a client sends: it shares the key store of the IAM stand-in (FakeIAM from
standins/iam.py, in the same Python process) and accepts AUTH only with the SES SMTP
*v4* password of an Active access key, for this server's region, once the key has
"propagated".  Nothing is ever delivered: mail that an authenticated client sends
is answered like SES answers it and then dropped, and every MAIL/RCPT/DATA attempt
is logged so that a test can assert there was none.

Run with Debian's python (/usr/bin/python3): aiosmtpd comes from python3-aiosmtpd,
the certificates from python3-cryptography (via standins/tls.py).

In-process use
--------------
    import sys; sys.path.insert(0, "tests")
    from standins.iam import FakeIAM
    from standins.ses_smtp import FakeSESSMTP

    with FakeIAM(tls=True) as iam, FakeSESSMTP(iam, region="eu-west-1") as smtp:
        smtp.url        # "smtp://127.0.0.1:PORT" (STARTTLS), "smtps://..." in mode="tls"
        smtp.port
        smtp.ca_file    # == iam.ca_file: one AWS_CA_BUNDLE / --ca-bundle trusts both
        smtp.auth_attempts()   # [{time, user, mechanism, result, tls, reason, region}]
        smtp.transactions()    # [{time, command, arg, user, tls, reply}] - MAIL/RCPT/DATA
        smtp.clear_log()
        smtp.set_delay(5.0)    # propagation delay, seconds (see below)

    FakeSESSMTP(iam, region="us-east-1", mode="starttls" | "tls", host="127.0.0.1",
                port=0, propagation_delay=0.0, advertise_auth_before_tls=True,
                idle_timeout=300.0)
    start() -> self, stop(), context manager.
    start_smtp_servers(iam, regions, mode="starttls", delay=0.0) -> [FakeSESSMTP, ...]
        one started server per region, in the order given (stop each one yourself).

mode="starttls" is SES's ports 25/587/2587: plain text until STARTTLS.  mode="tls"
is the "TLS Wrapper" of ports 465/2465: TLS from the first byte.

Who may log in
--------------
User name = an access key id that FakeIAM holds on an IAM user (iam.access_key()),
and password = smtp_password_v4(that key's secret, this server's region), and the
key's status is Active, and at least `propagation_delay` seconds of time.monotonic()
have passed since the key's "created_mono" (FakeIAM stamps it in CreateAccessKey
and seed_user; a key without it, or with None, counts as old).  Everything else -
an unknown or deleted key, an Inactive key, the legacy v2 password, the secret
access key itself, another region's password, a key that is too new - is
"535 Authentication Credentials Invalid".  The log's "reason" says which it was:
ok, unknown_key, inactive_key, v2_password, secret_as_password, wrong_region,
wrong_password, not_propagated; "tls_resumed" whether the client resumed an
earlier TLS session (an abbreviated handshake).  The "result" is accepted (235), refused (535),
no_tls (530), unsupported (504), malformed (501), bad_sequence (503), cancelled
(client sent "*") or disconnected.

Conversation (S: = what this server sends; sources in brackets, see the end)
--------------------------------------------------------------------------
    S: 220 email-smtp.amazonaws.com ESMTP SimpleEmailService-d-XXXXXXXXX yyyyyyyyyyyyyyyyyyyy
    C: EHLO client
    S: 250-email-smtp.amazonaws.com
    S: 250-8BITMIME
    S: 250-SIZE 10485760
    S: 250-STARTTLS                 (only in mode="starttls" before STARTTLS)
    S: 250-AUTH PLAIN LOGIN         (see advertise_auth_before_tls)
    S: 250 Ok
    C: AUTH LOGIN                   (before TLS: 530 Must issue a STARTTLS command first)
    S: 334 VXNlcm5hbWU6
    S: 334 UGFzc3dvcmQ6
    S: 235 Authentication successful.  |  535 Authentication Credentials Invalid
    C: MAIL FROM:<a@b>              (unauthenticated: 530 Authentication required)
    S: 250 Ok ... 354 End data with <CR><LF>.<CR><LF> ... 250 Ok <message id>
    C: QUIT
    S: 221 Bye

advertise_auth_before_tls: real SES lists "AUTH PLAIN LOGIN" in the EHLO answer
*before* STARTTLS too, and answers AUTH there with 530 [SWAKS15] (Python's
smtplib.login() reaching that 530 on SES [OMNI1161] shows the same).  True (the
default) copies SES; False hides AUTH until TLS is up, as many other servers do.
After STARTTLS, and always in mode="tls", STARTTLS is not listed [CAP-EU].

Sources for the replies
-----------------------
[SWAKS15]  jetmore/swaks#15 (2020): SES us-west-2 port 25 transcript: greeting,
           EHLO lines incl. STARTTLS and AUTH PLAIN LOGIN, "530 Must issue a
           STARTTLS command first" to AUTH LOGIN and AUTH PLAIN, "221 Bye".
[CAP-EU]   a port-465 transcript of email-smtp.eu-central-1 in a public README:
           EHLO lines without STARTTLS, "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
           "235 Authentication successful.", "250 Ok", "354 End data with
           <CR><LF>.<CR><LF>", "250 Ok 0107017033dbb64d-be13a01e-...-000000".
[PASTEBIN] sendmail transcript with email-smtp.us-east-1 (pastebin t22G4F69): AUTH
           before TLS -> "530 Must issue a STARTTLS command first"; MAIL FROM
           without AUTH (still without TLS) -> "530 Authentication required".
           Billionmail/BillionMail#156 shows the same 530 to MAIL FROM.
[SO45653939] stackoverflow 45653939 (and many READMEs): "535 Authentication
           Credentials Invalid", including for a freshly created key.
[DG]       SES Developer Guide, smtp-response-codes / smtp-connect / the
           "openssl s_client" test page: "235 Authentication successful", greeting
           "220 email-smtp.amazonaws.com ESMTP SimpleEmailService-d-VCSHDP1YZ
           A1b2C3d4E5f6G7h8I9j0", STARTTLS on 25/587/2587, TLS Wrapper on 465/2465.
Everything else is marked "UNSURE" where it is defined below.
"""

import asyncio
import base64
import binascii
import copy
import functools
import hashlib
import hmac
import logging
import os
import random
import shutil
import ssl
import string
import tempfile
import threading
import time
import uuid

from aiosmtpd.smtp import SMTP as _AioSMTP

from .tls import make_ca_and_server_cert

# aiosmtpd logs every connection to "mail.log"; without a handler its warnings
# (unknown commands, TLS handshake errors) would land on the test's stderr.
logging.getLogger("mail.log").addHandler(logging.NullHandler())

SES_HOST = "email-smtp.amazonaws.com"            # greeting and EHLO, every region [SWAKS15]
SIZE_LIMIT = 10485760                            # "250-SIZE 10485760" [SWAKS15] [CAP-EU]

R_EHLO_LAST = "250 Ok"                           # [SWAKS15]
R_NEED_TLS = "530 Must issue a STARTTLS command first"   # [SWAKS15] [PASTEBIN]
R_NEED_AUTH = "530 Authentication required"      # [PASTEBIN]
R_AUTH_OK = "235 Authentication successful."     # on the wire with the period [CAP-EU]
R_AUTH_BAD = "535 Authentication Credentials Invalid"    # [SO45653939]
R_LOGIN_USER = "334 VXNlcm5hbWU6"                # base64 "Username:" [CAP-EU]
R_LOGIN_PASS = "334 UGFzc3dvcmQ6"                # base64 "Password:" [CAP-EU]
R_OK = "250 Ok"                                  # MAIL, RCPT [CAP-EU]
R_BYE = "221 Bye"                                # [SWAKS15]
# UNSURE: the continuation SES sends after a bare "AUTH PLAIN" (RFC 4954's empty
# challenge "334 " is used; one report annotates it as "334 Ok").
R_PLAIN_CONT = "334 "
# UNSURE: no SES capture for these; aiosmtpd's or RFC wording.
R_RSET = "250 Ok"
R_NOOP = "250 Ok"
R_AUTH_UNSUPPORTED = "504 Unrecognized authentication type"
R_AUTH_NO_ARG = "501 Syntax: AUTH mechanism"
R_AUTH_TOO_MANY = "501 Too many values"
R_AUTH_TWICE = "503 Already authenticated"
R_AUTH_NO_EHLO = "503 Error: send EHLO first"
R_AUTH_CANCELLED = "501 Authentication cancelled"
R_AUTH_BAD_B64 = "501 Invalid base64 data"
R_AUTH_BAD_PLAIN = "501 Invalid PLAIN authentication data"
R_TLS_ACTIVE = "454 TLS not available"           # STARTTLS once TLS is already up
R_EHLO_NO_ARG = "501 Syntax: EHLO hostname"

_B32ISH = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


# ----------------------------------------------------------------- passwords
def _hmac256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def smtp_password_v4(secret, region):
    """SES SMTP password (SigV4 flavour) of a secret access key for a region.

    kDate = HMAC("AWS4" + secret, "11111111"); then region, "ses", "aws4_request",
    "SendRawEmail"; password = base64(0x04 || kMessage).
    """
    k = _hmac256(("AWS4" + secret).encode("utf-8"), "11111111")
    for part in (region, "ses", "aws4_request", "SendRawEmail"):
        k = _hmac256(k, part)
    return base64.b64encode(b"\x04" + k).decode("ascii")


def smtp_password_v2(secret):
    """The legacy, region-free SES SMTP password: base64(0x02 || HMAC(secret, "SendRawEmail")).
    SES refuses it (535); it is computed only to name the reason in the log."""
    sig = _hmac256(secret.encode("utf-8"), "SendRawEmail")
    return base64.b64encode(b"\x02" + sig).decode("ascii")


@functools.lru_cache(maxsize=1)
def _known_regions():
    """Every region botocore knows for SES, to recognise another region's password."""
    try:
        import botocore.session
        s = botocore.session.get_session()
        out = set()
        for part in s.get_available_partitions():
            out.update(s.get_available_regions("ses", part))
            out.update(s.get_available_regions("sts", part))
        return tuple(sorted(out))
    except Exception:                               # only used for the log's reason
        return ()


def _same(a, b):
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# ------------------------------------------------------------- one session
class _Handler:
    """aiosmtpd hooks.  Nothing is delivered: envelopes are accepted and dropped."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return R_OK

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return R_OK

    async def handle_DATA(self, server, session, envelope):
        # Shape of SES's message id [CAP-EU]; the content is dropped here.
        return "250 Ok %016x-%s-000000" % (random.getrandbits(64), uuid.uuid4())

    async def handle_RSET(self, server, session, envelope):
        return R_RSET

    async def handle_NOOP(self, server, session, envelope, arg):
        return R_NOOP

    async def handle_QUIT(self, server, session, envelope):
        return R_BYE


class _Session(_AioSMTP):
    """One SMTP connection, with SES's EHLO, AUTH and error replies."""

    def __init__(self, fake, implicit_tls, tls_context):
        ident = "ESMTP SimpleEmailService-d-%s %s" % (
            "".join(random.choice(_B32ISH) for _ in range(9)),
            "".join(random.choice(_ALNUM) for _ in range(20)))
        super().__init__(_Handler(), hostname=SES_HOST, ident=ident,
                         tls_context=tls_context, require_starttls=False,
                         auth_required=True, auth_require_tls=True,
                         data_size_limit=SIZE_LIMIT, enable_SMTPUTF8=False,
                         decode_data=False, timeout=fake.idle_timeout, loop=fake._loop)
        self._fake = fake
        self._implicit_tls = implicit_tls
        self._txn_entry = None          # the MAIL/RCPT/DATA being answered

    # -- state
    def _is_tls(self):
        return self._implicit_tls or self._tls_protocol is not None

    async def push(self, status):
        if self._txn_entry is not None:     # logged before the client can see it
            self._fake._update_transaction(
                self._txn_entry,
                status if isinstance(status, str) else status.decode("ascii", "replace"))
        await super().push(status)

    def connection_lost(self, error):
        self._fake._forget(self)
        super().connection_lost(error)

    async def check_auth_needed(self, caller_method):
        if not self.session.authenticated:
            await self.push(R_NEED_AUTH)
            return True
        return False

    # -- commands
    async def smtp_EHLO(self, hostname):
        if not hostname:
            return await self.push(R_EHLO_NO_ARG)
        self._set_rset_state()
        self.session.extended_smtp = True
        self.session.host_name = hostname
        lines = ["250-" + SES_HOST, "250-8BITMIME", "250-SIZE %d" % SIZE_LIMIT]
        if self.tls_context is not None and not self._is_tls():
            lines.append("250-STARTTLS")
        if self._is_tls() or self._fake.advertise_auth_before_tls:
            lines.append("250-AUTH PLAIN LOGIN")
        lines.append(R_EHLO_LAST)
        for line in lines:
            await self.push(line)

    async def smtp_STARTTLS(self, arg):
        if self._is_tls():
            return await self.push(R_TLS_ACTIVE)
        # aiosmtpd answers "220 Ready to start TLS".  UNSURE: SES's wording.
        await super().smtp_STARTTLS(arg)

    async def smtp_MAIL(self, arg):
        await self._transaction("MAIL", arg, super().smtp_MAIL)

    async def smtp_RCPT(self, arg):
        await self._transaction("RCPT", arg, super().smtp_RCPT)

    async def smtp_DATA(self, arg):
        await self._transaction("DATA", arg, super().smtp_DATA)

    async def _transaction(self, command, arg, method):
        self._txn_entry = self._fake._record_transaction({
            "time": time.monotonic(), "command": command, "arg": arg,
            "user": self.session.auth_data if self.session.authenticated else None,
            "tls": self._is_tls(), "reply": None})
        try:
            await method(arg)           # "reply" is the last line pushed (DATA: 354, then 250)
        finally:
            self._txn_entry = None

    async def smtp_AUTH(self, arg):
        mech = arg.split()[0].upper() if arg and arg.split() else None
        tls = self._is_tls()

        ssl_object = self.transport.get_extra_info("ssl_object") if tls else None
        resumed = bool(ssl_object and ssl_object.session_reused)

        def log(result, user=None, reason=None):
            self._fake._record_auth({"time": time.monotonic(), "user": user,
                                     "mechanism": mech, "result": result, "tls": tls,
                                     "tls_resumed": resumed,
                                     "reason": reason, "region": self._fake.region})

        if not tls:
            log("no_tls")
            return await self.push(R_NEED_TLS)
        if not self.session.host_name:
            log("bad_sequence")
            return await self.push(R_AUTH_NO_EHLO)
        if self.session.authenticated:
            log("bad_sequence")
            return await self.push(R_AUTH_TWICE)
        if mech is None:
            log("malformed")
            return await self.push(R_AUTH_NO_ARG)
        args = arg.split()
        if len(args) > 2:
            log("malformed")
            return await self.push(R_AUTH_TOO_MANY)
        if mech not in ("PLAIN", "LOGIN"):
            log("unsupported")
            return await self.push(R_AUTH_UNSUPPORTED)

        if mech == "PLAIN":
            blob = args[1] if len(args) == 2 else None
            if blob is None:
                await self.push(R_PLAIN_CONT)
                blob, why = await self._read_response()
                if why:
                    return await self._auth_abort(log, why)
            raw, why = self._b64(blob)
            if why:
                return await self._auth_abort(log, why)
            parts = raw.split(b"\x00")
            if len(parts) != 3:
                log("malformed")
                return await self.push(R_AUTH_BAD_PLAIN)
            # UNSURE: SES's handling of a non-empty authorization identity; ignored.
            user_b, pass_b = parts[1], parts[2]
        else:
            if len(args) == 2:
                blob = args[1]
            else:
                await self.push(R_LOGIN_USER)
                blob, why = await self._read_response()
                if why:
                    return await self._auth_abort(log, why)
            user_b, why = self._b64(blob)
            if why:
                return await self._auth_abort(log, why)
            await self.push(R_LOGIN_PASS)
            blob, why = await self._read_response()
            if why:
                return await self._auth_abort(log, why, user_b)
            pass_b, why = self._b64(blob)
            if why:
                return await self._auth_abort(log, why, user_b)

        try:
            user, password = user_b.decode("utf-8"), pass_b.decode("utf-8")
        except UnicodeDecodeError:
            user, password = user_b.decode("utf-8", "replace"), None
        ok, reason = self._fake.check_credentials(user, password)
        log("accepted" if ok else "refused", user, reason)
        if ok:
            self.session.authenticated = True
            self.session.auth_data = user
            return await self.push(R_AUTH_OK)
        return await self.push(R_AUTH_BAD)

    async def _read_response(self):
        """One client line during AUTH -> (text, None) or (None, why)."""
        line = await self._reader.readline()
        if not line.endswith(b"\n"):
            return None, "disconnected"
        text = line.strip().decode("ascii", "replace")
        if text == "*":
            return None, "cancelled"
        return text, None

    @staticmethod
    def _b64(text):
        if text == "=":                      # RFC 4954: "=" is an empty response
            return b"", None
        try:
            return base64.b64decode(text.encode("ascii"), validate=True), None
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None, "malformed"

    async def _auth_abort(self, log, why, user_b=None):
        user = user_b.decode("utf-8", "replace") if user_b is not None else None
        log(why, user)
        if why == "disconnected":
            self.transport.close()
            return
        await self.push(R_AUTH_CANCELLED if why == "cancelled" else R_AUTH_BAD_B64)


# ------------------------------------------------------------------ server
class FakeSESSMTP:
    """The SES SMTP stand-in for one region.  See the module docstring."""

    def __init__(self, iam, region="us-east-1", mode="starttls", host="127.0.0.1",
                 port=0, propagation_delay=0.0, advertise_auth_before_tls=True,
                 idle_timeout=300.0):
        if mode not in ("starttls", "tls"):
            raise ValueError("mode must be 'starttls' or 'tls', not %r" % (mode,))
        self.iam = iam
        self.region = region
        self.mode = mode
        self.host = host
        self._port_arg = port
        self.propagation_delay = float(propagation_delay)
        self.advertise_auth_before_tls = advertise_auth_before_tls
        # UNSURE: SES drops an idle connection much sooner (about 10 s per the DG's
        # openssl test page); a generous default keeps slow test machines happy.
        self.idle_timeout = idle_timeout
        self.connections_accepted = 0
        self._log_lock = threading.Lock()
        self._auth = []
        self._txn = []
        self._loop = None
        self._thread = None
        self._server = None
        self._bound_port = None
        self._sessions = set()
        self._ssl_ctx = None
        self._ca_file = None
        self._tmp_dir = None
        self._start_error = None

    # -- lifecycle
    def start(self):
        if self._thread is not None:
            raise RuntimeError("already started")
        self._ssl_ctx = self._make_ssl_context()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, ctx: None)   # TLS handshake noise
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True,
                                        name="fake-ses-smtp-" + self.region)
        self._thread.start()
        if not ready.wait(15):
            raise TimeoutError("fake SES SMTP server did not start")
        if self._start_error is not None:
            self._thread.join(5)
            self._thread = None
            self._loop.close()
            raise self._start_error
        return self

    def _run(self, ready):
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(self._loop.create_server(
                self._new_session, self.host, self._port_arg,
                ssl=self._ssl_ctx if self.mode == "tls" else None))
            self._bound_port = self._server.sockets[0].getsockname()[1]
        except Exception as e:
            self._start_error = e
            ready.set()
            return
        ready.set()
        self._loop.run_forever()

    def _new_session(self):
        with self._log_lock:
            self.connections_accepted += 1
        s = _Session(self, implicit_tls=(self.mode == "tls"),
                     tls_context=self._ssl_ctx if self.mode == "starttls" else None)
        self._sessions.add(s)
        return s

    def _forget(self, session):
        self._sessions.discard(session)

    async def _shutdown(self):
        self._server.close()
        for s in list(self._sessions):
            # abort, not close: a TLS close would wait for the client's close_notify
            for t in (s._original_transport, s.transport):
                try:
                    t.abort()
                except Exception:       # None, or a TLS transport already torn down
                    pass
        for _ in range(3):              # let connection_lost() run
            await asyncio.sleep(0)
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self):
        if self._thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
            self._loop.close()
            self._server = None
            if self._tmp_dir:
                shutil.rmtree(self._tmp_dir, ignore_errors=True)
                self._tmp_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _make_ssl_context(self):
        """Serve FakeIAM's certificate, so FakeIAM's CA covers both stand-ins.
        Without a running HTTPS FakeIAM, make a CA of our own (see ca_file)."""
        cert_dir = getattr(self.iam, "cert_dir", None)
        iam_ca = getattr(self.iam, "ca_file", None)
        cert = key = None
        if cert_dir and iam_ca:
            cert = os.path.join(cert_dir, "server.pem")
            key = os.path.join(cert_dir, "server-key.pem")
        if cert and os.path.exists(cert) and os.path.exists(key):
            self._ca_file = iam_ca
        else:
            self._tmp_dir = tempfile.mkdtemp(prefix="fake-ses-smtp-tls-")
            paths = make_ca_and_server_cert(
                self._tmp_dir, common_name="sesctl test SES SMTP stand-in")
            cert, key, self._ca_file = paths.cert_file, paths.key_file, paths.ca_file
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2   # UNSURE: SES's exact floor
        ctx.load_cert_chain(cert, key)
        return ctx

    # -- properties
    @property
    def port(self):
        return self._bound_port if self._bound_port is not None else self._port_arg

    @property
    def url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % ("smtps" if self.mode == "tls" else "smtp", host, self.port)

    @property
    def ca_file(self):
        return self._ca_file

    def set_delay(self, seconds):
        """Set the propagation delay: keys younger than this are refused (535)."""
        self.propagation_delay = float(seconds)

    # -- credentials
    def check_credentials(self, user, password):
        """-> (accepted, reason).  password None means undecodable bytes."""
        key = self.iam.access_key(user) if user else None
        if key is None:
            return False, "unknown_key"
        if key.get("status") != "Active":
            return False, "inactive_key"
        secret = key["secret_access_key"]
        if password is None or not _same(password, smtp_password_v4(secret, self.region)):
            return False, self._why_wrong(secret, password)
        created = key.get("created_mono")
        if created is not None and time.monotonic() - created < self.propagation_delay:
            return False, "not_propagated"
        return True, "ok"

    def _why_wrong(self, secret, password):
        if password is None:
            return "wrong_password"
        if _same(password, smtp_password_v2(secret)):
            return "v2_password"
        if _same(password, secret):
            return "secret_as_password"
        for r in _known_regions():
            if r != self.region and _same(password, smtp_password_v4(secret, r)):
                return "wrong_region"
        return "wrong_password"

    # -- logs
    def _record_auth(self, rec):
        with self._log_lock:
            self._auth.append(rec)

    def _record_transaction(self, rec):
        with self._log_lock:
            self._txn.append(rec)
        return rec

    def _update_transaction(self, rec, reply):
        with self._log_lock:
            rec["reply"] = reply

    def auth_attempts(self):
        with self._log_lock:
            return copy.deepcopy(self._auth)

    def transactions(self):
        with self._log_lock:
            return copy.deepcopy(self._txn)

    def clear_log(self):
        with self._log_lock:
            self._auth.clear()
            self._txn.clear()


def start_smtp_servers(iam, regions, mode="starttls", delay=0.0):
    """Start one FakeSESSMTP per region (ephemeral ports); returns them in order."""
    servers = []
    try:
        for region in regions:
            servers.append(FakeSESSMTP(iam, region=region, mode=mode,
                                       propagation_delay=delay).start())
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers
