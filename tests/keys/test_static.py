"""Key files: PEM public keys, certificates, JWKs and JWK Sets load; private and symmetric keys never do."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.x509.oid import NameOID

from bot.keys.static import KeyFileError, load_key_file
from tests.keys.support import ec_key, ed_key, jwk_of, jwks, pem_of, rsa_key


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize("private", [rsa_key, ec_key, ed_key])
def test_a_pem_public_key_loads_as_a_jwk_and_keeps_its_pem(tmp_path: Path, private: object) -> None:
    key = private()  # type: ignore[operator]
    [loaded] = load_key_file(write(tmp_path, "k.pem", pem_of(key)), "keys/k.pem")
    assert loaded.jwk == jwk_of(key) and loaded.origin == "keys/k.pem" and not loaded.indexed
    assert loaded.pem == pem_of(key)


def test_a_pkcs1_rsa_public_key_and_a_certificate_load(tmp_path: Path) -> None:
    key = rsa_key()
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert load_key_file(write(tmp_path, "rsa.pem", pkcs1), "rsa.pem")[0].jwk == jwk_of(key)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login.acme.test")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    assert load_key_file(write(tmp_path, "cert.pem", pem), "cert.pem")[0].jwk == jwk_of(key)


def test_a_jwk_and_a_jwk_set_load_with_their_kids(tmp_path: Path) -> None:
    one = load_key_file(write(tmp_path, "k.jwk.json", json.dumps(jwk_of(ec_key(), "k-ec"))), "k.jwk.json")
    assert [k.kid for k in one] == ["k-ec"]
    many = load_key_file(
        write(tmp_path, "set.json", json.dumps(jwks(jwk_of(rsa_key(), "a"), jwk_of(ed_key(), "b")))), "set.json"
    )
    assert [k.kid for k in many] == ["a", "b"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "neither PEM nor JSON"),
        (b"\xff\xfe junk", "neither PEM nor JSON"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key or certificate"),
        (json.dumps({"kty": "oct", "k": "c2VjcmV0"}).encode(), "HMAC secrets are never kept in files"),
        (json.dumps(dict(jwk_of(rsa_key()), d="c2VjcmV0")).encode(), "private key material"),
        (json.dumps({"kty": "RSA", "n": "AQAB"}).encode(), "not a usable public signing key"),
        (json.dumps({"keys": []}).encode(), "holds no keys"),
        (json.dumps([1, 2]).encode(), "neither a JWK"),
    ],
)
def test_a_bad_key_file_is_one_line_naming_the_file(tmp_path: Path, data: bytes, words: str) -> None:
    with pytest.raises(KeyFileError) as caught:
        load_key_file(write(tmp_path, "bad", data), "keys/bad.pem")
    message = str(caught.value)
    assert message.startswith("keys/bad.pem") and words in message and "\n" not in message


def test_a_private_key_is_refused_and_never_echoed(tmp_path: Path) -> None:
    pem = rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFileError) as caught:
        load_key_file(write(tmp_path, "private.pem", pem), "private.pem")
    assert "a private key; give the public key" in str(caught.value)
    assert pem.decode().splitlines()[1] not in str(caught.value)


def test_an_unusable_key_type_and_a_missing_file_are_named(tmp_path: Path) -> None:
    x25519_pem = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="X25519PublicKey key; JWTs are signed with RSA, EC or Ed25519"):
        load_key_file(write(tmp_path, "x25519.pem", x25519_pem), "x25519.pem")
    with pytest.raises(KeyFileError, match=r"missing\.pem: cannot read the key file"):
        load_key_file(tmp_path / "missing.pem", "missing.pem")
    with pytest.raises(KeyFileError, match="over 256 KiB"):
        load_key_file(write(tmp_path, "huge.pem", b"x" * (257 * 1024)), "huge.pem")
