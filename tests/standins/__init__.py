"""The AWS stand-ins sesctl's tests and tools run against, all on loopback.

They behave like AWS, not like sesctl: see each module's docstring.
    iam.py              FakeIAM: IAM over HTTPS (routing, authorization, the
                        actions on users, policies, access keys), made of:
      iam_dependents.py   groups, login profiles, certificates, SSH keys,
                          service-specific credentials, MFA devices
      sts.py              callers, roles, STS AssumeRole/GetCallerIdentity
      policy.py           IAM's evaluation of a caller's identity policies
      sigcheck.py         every request's SigV4 signature, checked by botocore
      faults.py           the fault plan
      state.py            the state, the clock, the seeding API
      server.py           HTTP(S), request log, connections, control endpoint
      protocol.py         Query protocol: errors, XML, parameter validation
      jsonproto.py        AWS JSON 1.1 (X-Amz-Target) on the same port, for:
        secretsmanager.py   Secrets Manager: secrets, versions, staging labels
        ssm.py              SSM Parameter Store: parameters, versions, paths
    ses_smtp.py         FakeSESSMTP: SES's SMTP interface, sharing FakeIAM's keys
    metadata.py         FakeMetadata: ECS container credentials and EC2 IMDSv2
    tls.py              a CA and a server certificate per run
    __main__.py         the launcher: python3 tests/standins iam|metadata ...

Import them with tests/ on the path (the test suite sets PYTHONPATH):
    from standins.iam import FakeIAM
Run with Debian's /usr/bin/python3 (botocore, aiosmtpd and cryptography
come from Debian packages).
"""
