"""The AWS stand-ins sesctl's tests and tools run against, all on loopback.

iam.py (IAM and STS over HTTPS, FakeIAM), ses_smtp.py (the SES SMTP
interface, FakeSESSMTP), metadata.py (the ECS container endpoint and EC2
IMDSv2, FakeMetadata) and tls.py (a CA and a server certificate per run).
They behave like AWS, not like sesctl: see each module's docstring.

Import them with tests/ on the path (the test suite sets PYTHONPATH):
    from standins.iam import FakeIAM
Run with Debian's /usr/bin/python3 (botocore, aiosmtpd and cryptography
come from Debian packages).
"""
