"""Make a throw-away CA and a server certificate for loopback tests.

    from standins.tls import make_ca_and_server_cert
    paths = make_ca_and_server_cert("/tmp/dir")
    paths.ca_file, paths.cert_file, paths.key_file

The CA (``ca.pem``) is what a client trusts (``--ca-bundle``, ``AWS_CA_BUNDLE``,
``CURLOPT_CAINFO``).  The server certificate (``server.pem`` + ``server-key.pem``)
is signed by it and carries ``subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost``.
Keys are EC P-256, certificates are valid from one hour ago for 7 days, so a
client whose clock is pinned a little in the past still accepts them.  Nothing
is reused between runs: every call makes a new CA.

Only python3-cryptography (Debian package) is used.
"""

import collections
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TLSPaths = collections.namedtuple("TLSPaths", "ca_file cert_file key_file ca_key_file")


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_ca_and_server_cert(directory, common_name="sesctl test IAM stand-in",
                            not_before=None, days=7):
    """Create ca.pem, ca-key.pem, server.pem, server-key.pem in directory."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start = not_before or (now - datetime.timedelta(hours=1))
    end = start + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sesctl tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name + " CA"),
    ])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sesctl tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
            x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    paths = TLSPaths(
        ca_file=os.path.join(directory, "ca.pem"),
        cert_file=os.path.join(directory, "server.pem"),
        key_file=os.path.join(directory, "server-key.pem"),
        ca_key_file=os.path.join(directory, "ca-key.pem"),
    )
    _write(paths.ca_file, ca_cert.public_bytes(pem), 0o644)
    _write(paths.cert_file, cert.public_bytes(pem), 0o644)
    nopass = serialization.NoEncryption()
    _write(paths.key_file, key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, nopass))
    _write(paths.ca_key_file, ca_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, nopass))
    return paths
