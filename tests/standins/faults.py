"""standins/faults.py - the IAM stand-in's fault plan.

What can go wrong between a client and IAM, on demand: error answers,
connections dropped before or after the request is applied, broken or
truncated XML, slow answers.

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
Secrets Manager and SSM actions (jsonproto.py) take the same faults by their
action names (add_fault("service_failure", "PutSecretValue")); their errors
come out as JSON with the service's codes (InternalServiceError or
InternalServerError for 500s, ThrottlingException), malformed_xml sends
broken JSON.  Every kind but slow takes apply=True/False to override the default (for example
service_failure with apply=True is "IAM did it and then said 500";
close_before with apply=True is close_after).  Error kinds take message=...
The request log shows fault and applied for each request.  Faults fire before
authentication, so they also hit requests that would have failed it.
"""

import copy
import datetime
import http.server
import time

from .protocol import IAMError, parse_time
from .sigcheck import signature_mismatch

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

HTTP_REASONS = http.server.BaseHTTPRequestHandler.responses


class FaultsMixin:
    """FakeIAM's fault plan (see the module docstring)."""

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

    # ---------------------------------------------------------- fault answers
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

    def _request_date(self, rec):
        for k, v in rec["headers"]:
            if k.lower() == "x-amz-date":
                try:
                    return parse_time(v)
                except ValueError:
                    return None
        return None
