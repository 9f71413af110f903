"""standins/policy.py - IAM's evaluation of identity-based policies, enough
of it for a caller that holds a given policy (FakeIAM.caller_with_policy).

Follows the IAM User Guide's "Policy evaluation logic" for a request inside
one account with only identity-based policies in play (no SCPs, resource
policies, permissions boundaries or session policies):
  1. an explicit Deny in any statement that matches the request wins;
  2. else an Allow in any statement that matches allows it;
  3. else it is denied by default (an implicit deny).
A statement matches when its Action (or NotAction) and its Resource (or
NotResource) match.  Action names are case-insensitive ("iam:getuser" is
iam:GetUser), resource ARNs case-sensitive; in both, '*' stands for any run
of characters (including none, '/' and ':') and '?' for any one character
("Wildcards" in the IAM JSON policy elements reference).  An action that
has no resource-level permissions is requested on "*", which only a
Resource of "*" (or a pattern that matches the one character '*') covers:
IAM says to use "*" for those.

Not modelled, and refused rather than guessed: Condition, policy variables
(${aws:username}), Principal/NotPrincipal (not allowed in identity policies
anyway).  check_document() refuses them when a caller is made; evaluate()
raises Unsupported if one turns up later (a PutUserPolicy on the caller).
"""

import json
import re

MANAGED_POLICY_MAX = 6144   # characters, whitespace not counted (IAM quotas)


class Unsupported(Exception):
    """A policy element the stand-in does not evaluate."""


def _listify(v):
    return v if isinstance(v, list) else [v]


def _statements(doc):
    pol = json.loads(doc) if isinstance(doc, str) else doc
    st = pol.get("Statement", [])
    return st if isinstance(st, list) else [st]


def check_document(doc):
    """Refuse (ValueError) a document this module cannot evaluate, or one
    over IAM's managed-policy size.  -> the document as JSON text."""
    text = doc if isinstance(doc, str) else json.dumps(doc)
    pol = json.loads(text)
    if pol.get("Version") != "2012-10-17":
        raise ValueError("caller policy: Version must be 2012-10-17")
    if len(re.sub(r"\s", "", text)) > MANAGED_POLICY_MAX:
        # What CreatePolicy answers (LimitExceeded) for a longer document.
        raise ValueError(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")
    for s in _statements(pol):
        _check_statement(s)
    return text


def _check_statement(s):
    if not isinstance(s, dict) or s.get("Effect") not in ("Allow", "Deny"):
        raise ValueError(f"caller policy: bad statement {s!r}")
    for k in ("Condition", "Principal", "NotPrincipal"):
        if k in s:
            raise Unsupported(f"the IAM stand-in does not evaluate {k}")
    if ("Action" in s) == ("NotAction" in s) or ("Resource" in s) == ("NotResource" in s):
        raise ValueError("caller policy: a statement needs Action or NotAction, "
                         "and Resource or NotResource")
    for k in ("Resource", "NotResource"):
        for r in _listify(s.get(k, [])):
            if "${" in r:
                raise Unsupported("the IAM stand-in does not evaluate policy variables")


def _glob(pattern, value, fold):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                 for c in pattern)
    return re.fullmatch(rx, value, re.S | (re.I if fold else 0)) is not None


def _matches(s, key, value, fold):
    if key in s:
        return any(_glob(p, value, fold) for p in _listify(s[key]))
    return not any(_glob(p, value, fold) for p in _listify(s["Not" + key]))


def evaluate(docs, action, resource):
    """'allow', 'explicit-deny' or 'implicit-deny' for `action`
    ("iam:GetUser") on `resource` (an ARN, or "*") under the documents."""
    allowed = False
    for doc in docs:
        for s in _statements(doc):
            _check_statement(s)
            if not (_matches(s, "Action", action, True) and
                    _matches(s, "Resource", resource, False)):
                continue
            if s["Effect"] == "Deny":
                return "explicit-deny"
            allowed = True
    return "allow" if allowed else "implicit-deny"


def denial_message(caller_arn, action, resource_text, verdict):
    """IAM's AccessDenied message for a verdict of evaluate()."""
    why = ("with an explicit deny in an identity-based policy"
           if verdict == "explicit-deny"
           else f"because no identity-based policy allows the {action} action")
    return (f"User: {caller_arn} is not authorized to perform: {action} on "
            f"resource: {resource_text} {why}")
