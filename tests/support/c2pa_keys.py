"""A throw-away C2PA signer for tests: a CA and an ES256 leaf certificate made with `cryptography`.

C2PA needs a leaf certificate signed by a CA (not self-signed), with digitalSignature key usage and an
allowed extended key usage (emailProtection here). Validation then says "Valid" (not "Trusted": the
test CA is on no trust list).
"""

from __future__ import annotations

import datetime
from pathlib import Path


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EcoMapper Studio tests"),
        ]
    )


def _usage(signing: bool):
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=not signing,
        crl_sign=not signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def write_test_signer(folder: Path) -> tuple[Path, Path]:
    """Write `chain.pem` (leaf, then CA) and `key.pem` (the leaf's private key) into `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: str, issuer, public_key, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_usage(signing=not ca), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    ca = certificate("EcoMapper test CA", _name("EcoMapper test CA"), ca_key.public_key(), ca=True)
    leaf = certificate("EcoMapper test signer", ca.subject, key.public_key(), ca=False)
    folder.mkdir(parents=True, exist_ok=True)
    chain = folder / "chain.pem"
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    private = folder / "key.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return chain, private
