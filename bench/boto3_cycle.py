#!/usr/bin/python3
"""bench/boto3_cycle.py - sesctl's cycle as one boto3 process (run by bench/run).

Usage:
    /usr/bin/python3 bench/boto3_cycle.py ENDPOINT_URL REGION

One process imports boto3, makes an IAM client, then makes the IAM calls
that sesctl smtp enable, rotate, status and disable make, in sesctl's order,
one at a time on the client's kept-alive connection, and derives the SMTP
password from each new key (the v4 scheme SES accepts, with hmac and
hashlib, as the SES documentation's Python script does).  Credentials and
the CA bundle come from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_CA_BUNDLE), as for any boto3 program.

It prints one JSON line: seconds spent importing boto3, making the client,
and on each command, and each command's [start, end] in time.time() (so
that bench/run can tell which of the stand-in's requests were whose).  No
secret is printed.

With BENCH_MARKS=1 it calls getppid(2) at each phase's boundary, so that
`valgrind --tool=callgrind --dump-before=getppid` dumps the instructions
of each phase on its own: interpreter start, import, client, enable, rotate,
status, disable, and (the last file) exit.
"""
import time

T0 = time.perf_counter()

import base64  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

MARKS = os.environ.get("BENCH_MARKS") == "1"
USER = "sesctl-smtp"
POLICY_NAME = "sesctl-ses-send"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}]},
    separators=(",", ":"))


def mark():
    if MARKS:
        os.getppid()


def smtp_password(secret, region):
    """The SES SMTP password for an IAM secret access key (v4)."""
    sig = ("AWS4" + secret).encode()
    for msg in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        sig = hmac.new(sig, msg.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + sig).decode()


def key_tags(current, kept, region):
    return [{"Key": "SesctlCurrentKey", "Value": current},
            {"Key": "SesctlKeptKey", "Value": kept},
            {"Key": "SesctlRegions", "Value": region},
            {"Key": "SesctlFormat", "Value": "env"}]


def enable(iam, region):
    iam.create_user(UserName=USER, Path="/sesctl/",
                    Tags=[{"Key": "ManagedBy", "Value": "sesctl"},
                          {"Key": "SesctlName", "Value": "default"}])
    iam.put_user_policy(UserName=USER, PolicyName=POLICY_NAME,
                        PolicyDocument=POLICY)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    if len(smtp_password(key["SecretAccessKey"], region)) != 44:
        raise SystemExit("boto3_cycle: bad SMTP password")
    iam.tag_user(UserName=USER, Tags=key_tags(key["AccessKeyId"], "", region))


def rotate(iam, region):
    iam.get_user(UserName=USER)
    old = [k["AccessKeyId"] for k in
           iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    if len(smtp_password(key["SecretAccessKey"], region)) != 44:
        raise SystemExit("boto3_cycle: bad SMTP password")
    iam.tag_user(UserName=USER, Tags=key_tags(key["AccessKeyId"],
                                              old[0] if old else "", region))
    iam.list_access_keys(UserName=USER)
    for k in old:
        iam.delete_access_key(UserName=USER, AccessKeyId=k)


def status(iam, region):
    iam.get_user(UserName=USER)
    iam.get_user_policy(UserName=USER, PolicyName=POLICY_NAME)
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    iam.list_user_policies(UserName=USER)
    iam.list_attached_user_policies(UserName=USER)
    try:
        iam.get_login_profile(UserName=USER)
    except iam.exceptions.NoSuchEntityException:
        pass
    iam.list_groups_for_user(UserName=USER)
    iam.list_signing_certificates(UserName=USER)
    iam.list_ssh_public_keys(UserName=USER)
    iam.list_service_specific_credentials(UserName=USER)
    iam.list_mfa_devices(UserName=USER)
    for k in keys:
        iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])


def disable(iam, region):
    iam.get_user(UserName=USER)
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    for k in keys:
        iam.delete_access_key(UserName=USER, AccessKeyId=k["AccessKeyId"])
    iam.delete_user_policy(UserName=USER, PolicyName=POLICY_NAME)
    iam.delete_user(UserName=USER)


def main():
    url, region = sys.argv[1], sys.argv[2]
    out = {"commands": {}}
    mark()
    t = time.perf_counter()
    import boto3
    out["import"] = time.perf_counter() - t
    mark()
    t = time.perf_counter()
    iam = boto3.client("iam", endpoint_url=url, region_name=region)
    out["client"] = time.perf_counter() - t
    mark()
    for name, fn in (("enable", enable), ("rotate", rotate),
                     ("status", status), ("disable", disable)):
        start, t = time.time(), time.perf_counter()
        fn(iam, region)
        out["commands"][name] = {"wall": time.perf_counter() - t,
                                 "span": [start, time.time()]}
        mark()
    out["in_script"] = time.perf_counter() - T0
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
