"""standins/server.py - the IAM stand-in's transport, request log and control endpoint.

HTTP/1.1 on loopback, HTTPS by default with a CA made for the run (tls.py);
a thread per connection, so requests a client sends in parallel overlap;
kept-alive connections idle out after idle_timeout.  Every IAM or STS
request (Query protocol), and every Secrets Manager or SSM request (JSON
1.1, told apart by its X-Amz-Target header: jsonproto.py) is logged, then
goes through the fault plan (faults.py) and FakeIAM._process; control
requests are answered here.

Request log and connections
---------------------------
    iam.requests -> list of dicts: seq, conn (connection id), time, method, path,
        query, headers ([name, value] pairs as received, Authorization included),
        body, params, action, status, error_code, request_id, fault, applied,
        caller (access key id) and sigv4 ({canonical_request, string_to_sign,
        expected_signature, provided_signature, ok}) when a signature was checked,
        response (body text), region (the credential scope's, when the
        request was signed), protocol "json" and service ("secretsmanager",
        "ssm"; None for a target no service owns) for JSON 1.1 requests,
        whose params are the parsed body once it passed validation,
        received_at / answered_at (time.time() when the
        request had been read / just before its answer went out, or when the
        connection was dropped; None until then: a request the client sent after
        reading an answer always has received_at > that answer's answered_at,
        so overlapping intervals mean requests in flight together), latency
        (seconds added to this answer)
    iam.clear_requests()
    iam.connections_accepted   TCP connections accepted
    iam.tls_handshakes         TLS handshakes completed (== accepted in HTTP mode)
    iam.tls_resumed            of those, the ones that resumed an earlier session
    iam.iam_connection_ids()   distinct conn ids that carried IAM requests
Control requests (below) are not in iam.requests.

Control endpoint (for a stand-in in another process)
----------------------------------------------------
No IAM request uses the path prefix /__fake__/; these take and return JSON and
need no signature:
    GET  /__fake__/info               same JSON as the CLI prints
    GET  /__fake__/requests           {"requests": [...]};  DELETE clears
    GET  /__fake__/connections        {"accepted", "tls_handshakes", "tls_resumed",
                                       "iam_connection_ids"}
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
"""

import copy
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
import urllib.parse

from .faults import FAULT_KINDS
from .jsonproto import JSON_CONTENT_TYPE, json_error_body, json_target, to_json_error
from .protocol import IAMError, error_xml
from .tls import make_ca_and_server_cert

CONTROL_PREFIX = "/__fake__/"


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


class ServerMixin:
    """FakeIAM's transport, request log and control endpoint (see the module
    docstring)."""

    # ---------------------------------------------------------------- lifecycle
    def start(self):
        if self.tls:
            if self._cert_dir_arg:
                self.cert_dir = self._cert_dir_arg
            else:
                self.cert_dir = self._tmp_cert_dir = tempfile.mkdtemp(prefix="fake-iam-tls-")
            paths = make_ca_and_server_cert(self.cert_dir)
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
            if getattr(sock, "session_reused", False):
                self.tls_resumed += 1
            self._open[conn_id] = sock

    def _connection_closed(self, conn_id):
        with self._meta:
            self._open.pop(conn_id, None)

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
               "response": None, "truncated_to": None, "region": None,
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
            target = h.headers.get("X-Amz-Target")
            if target is not None:
                # AWS JSON 1.1 (Secrets Manager, SSM): jsonproto.py
                rec["protocol"] = "json"
                rec["service"], action = json_target(target)
                params = {}
            else:
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
        ctype = JSON_CONTENT_TYPE if rec.get("protocol") == "json" else "text/xml"
        h.send_raw(status, [("x-amzn-RequestId", rec["request_id"]),
                            ("Content-Type", ctype)], body_out, **kw)

    def _send_error(self, h, rec, err, request_id):
        if rec.get("protocol") == "json":
            err = to_json_error(err, rec.get("service") or "ssm")
            self._finish(h, rec, err.status, json_error_body(err), err)
            return
        self._finish(h, rec, err.status, error_xml(err, request_id), err)

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
                            "tls_resumed": self.tls_resumed,
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
