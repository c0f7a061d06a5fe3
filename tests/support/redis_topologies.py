"""Redis in its production shapes, started from the ``redis-server`` binary on free ports in a temp dir:
a 3-node Cluster, a primary with a replica behind a Sentinel, and a TLS server with its own CA.

Every process is started by this module and stopped by it (terminate, then kill), by its own handle.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
MISSING = "redis-server (and redis-cli) are not on PATH: the Redis Cluster, Sentinel and TLS tests need them"
READY_WITHIN = 20.0  # seconds: a generous bound for a loaded CI machine, not a timing assertion
SERVICE = "jwtcheck-primary"


def available() -> bool:
    return REDIS_SERVER is not None and REDIS_CLI is not None


def require() -> None:
    """Skip the calling test or fixture when the binaries are missing (fail under CI, which has them)."""
    if not available():
        if os.environ.get("CI"):
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_until(what: str, check: Callable[[], bool], within: float = READY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready within {within:g} s")
        time.sleep(0.05)


async def wait_until_async(what: str, check: Callable[[], Any], within: float = READY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if await check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready within {within:g} s")
        await asyncio.sleep(0.05)


@dataclass
class Server:
    """One ``redis-server`` process, its config file and log in ``directory``."""

    directory: Path
    port: int
    config: list[str]
    sentinel: bool = False
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        assert REDIS_SERVER is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / ("sentinel.conf" if self.sentinel else "redis.conf")
        base = [f"port {self.port}", "bind 127.0.0.1", f'dir "{self.directory}"', 'save ""', "appendonly no"]
        if not self.sentinel:
            base.append("enable-debug-command local")
        conf.write_text("\n".join(base + self.config) + "\n")
        args = [REDIS_SERVER, str(conf)] + (["--sentinel"] if self.sentinel else [])
        log = (self.directory / "server.log").open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        log.close()
        return self

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2, decode_responses=True, **kwargs)

    def wait_ready(self, **kwargs: Any) -> None:
        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited: {self.log_tail()}")
            with self.client(**kwargs) as client:
                return bool(client.ping())

        wait_until(f"redis-server on port {self.port}", answers)

    def log_tail(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class Cluster:
    """Three primaries, no replicas: every slot covered, ``redis+cluster://`` naming two of them."""

    nodes: list[Server]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[:2])

    def flush(self) -> None:
        for node in self.nodes:
            with node.client() as client:
                client.flushall()
                client.script_flush()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(directory: Path, size: int = 3) -> Cluster:
    assert REDIS_CLI is not None
    nodes = [
        Server(
            directory / f"node{n}",
            free_port(),
            [
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                f"cluster-port {free_port()}",  # the default, port + 10000, may be past 65535
                "cluster-node-timeout 2000",
            ],
        )
        for n in range(size)
    ]
    cluster = Cluster(nodes)
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=READY_WITHIN,
        )

        def all_ok() -> bool:
            for node in nodes:
                with node.client() as client:
                    info = client.cluster("INFO")
                    if info.get("cluster_state") != "ok" or int(info.get("cluster_known_nodes", 0)) != len(nodes):
                        return False
            return True

        wait_until("the cluster", all_ok)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@dataclass
class SentinelSetup:
    """A primary, its replica, and one Sentinel (quorum 1) watching them as :data:`SERVICE`."""

    primary: Server
    replica: Server
    sentinel: Server
    failovers: int = field(default=0)

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{SERVICE}/0"

    def flush(self) -> None:
        with self.sentinel.client() as sentinel:
            host, port = sentinel.sentinel_get_master_addr_by_name(SERVICE)
        with redis.Redis(host=host, port=int(port), socket_timeout=2, decode_responses=True) as client:
            client.flushall()
            client.script_flush()

    async def failover(self) -> int:
        """``SENTINEL FAILOVER``, then wait until the Sentinel names the new primary and it takes writes.
        Returns the new primary's port."""
        sentinel = aioredis.Redis(port=self.sentinel.port, socket_timeout=2, decode_responses=True)
        try:
            _, old = await sentinel.sentinel_get_master_addr_by_name(SERVICE)
            await sentinel.execute_command("SENTINEL FAILOVER", SERVICE)

            async def switched() -> bool:
                _, port = await sentinel.sentinel_get_master_addr_by_name(SERVICE)
                if int(port) == int(old):
                    return False
                async with aioredis.Redis(port=int(port), socket_timeout=2) as primary:
                    return (await primary.info("replication"))["role"] == "master"

            await wait_until_async("the Sentinel failover", switched)
            _, new = await sentinel.sentinel_get_master_addr_by_name(SERVICE)
        finally:
            await sentinel.aclose()
        self.failovers += 1
        return int(new)

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.primary):
            server.stop()


def start_sentinel(directory: Path) -> SentinelSetup:
    quick = ["repl-diskless-sync-delay 0"]  # the default waits 5 s for more replicas before a full sync
    primary = Server(directory / "primary", free_port(), quick)
    replica = Server(directory / "replica", free_port(), [*quick, f"replicaof 127.0.0.1 {primary.port}"])
    sentinel = Server(
        directory / "sentinel",
        free_port(),
        [
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} 1",
            f"sentinel down-after-milliseconds {SERVICE} 2000",
            f"sentinel failover-timeout {SERVICE} 10000",
        ],
        sentinel=True,
    )
    setup = SentinelSetup(primary, replica, sentinel)
    try:
        primary.start()
        replica.start()
        primary.wait_ready()
        replica.wait_ready()

        def replicating() -> bool:
            with replica.client() as client:
                return bool(client.info("replication").get("master_link_status") == "up")

        wait_until("the replica's link", replicating)
        sentinel.start()
        sentinel.wait_ready()

        def watching() -> bool:
            with sentinel.client() as client:
                replicas = client.sentinel_slaves(SERVICE)
                return any(int(r["port"]) == replica.port and r["is_slave"] and not r["is_sdown"] for r in replicas)

        wait_until("the Sentinel", watching)
    except BaseException:
        setup.stop()
        raise
    return setup


# --- TLS ----------------------------------------------------------------------------------------------


@dataclass
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: trusting it alone must fail


def make_tls_files(directory: Path) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return path

    def write_cert(cert: x509.Certificate, path: Path) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def make_ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(name(common))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    def leaf(
        ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, common: str, usage: x509.ObjectIdentifier
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca = make_ca("jwtcheck test CA")
    server_key, server = leaf(ca_key, ca, "localhost", ExtendedKeyUsageOID.SERVER_AUTH)
    client_key, client = leaf(ca_key, ca, "jwtcheck-bot", ExtendedKeyUsageOID.CLIENT_AUTH)
    _, other = make_ca("another CA")
    return TlsFiles(
        ca=write_cert(ca, directory / "ca.pem"),
        server_cert=write_cert(server, directory / "server.pem"),
        server_key=write_key(server_key, directory / "server.key"),
        client_cert=write_cert(client, directory / "client.pem"),
        client_key=write_key(client_key, directory / "client.key"),
        other_ca=write_cert(other, directory / "other-ca.pem"),
    )


@dataclass
class TlsServer:
    server: Server
    files: TlsFiles
    username: str
    password: str

    def url(self, *, ca: Path | None = None, client_cert: bool = True) -> str:
        query = f"ssl_ca_certs={ca or self.files.ca}"
        if client_cert:
            query += f"&ssl_certfile={self.files.client_cert}&ssl_keyfile={self.files.client_key}"
        return f"rediss://{self.username}:{self.password}@127.0.0.1:{self.server.port}/0?{query}"

    def client(self) -> redis.Redis:
        return self.server.client(**self.client_options())

    def client_options(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "ssl": True,
            "ssl_ca_certs": str(self.files.ca),
            "ssl_certfile": str(self.files.client_cert),
            "ssl_keyfile": str(self.files.client_key),
        }

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        self.server.stop()


TLS_PASSWORD = "tls-pw-S3cret"


def start_tls_server(directory: Path, username: str = "jwtbot", password: str = TLS_PASSWORD) -> TlsServer:
    """A server on a TLS port only, requiring a client certificate and an ACL user with a password."""
    files = make_tls_files(directory / "tls")
    tls_port = free_port()
    server = Server(
        directory / "tls-server",
        tls_port,  # the one way in: "port 0" below turns the plain port off
        [
            "port 0",
            f"tls-port {tls_port}",
            f'tls-cert-file "{files.server_cert}"',
            f'tls-key-file "{files.server_key}"',
            f'tls-ca-cert-file "{files.ca}"',
            "tls-auth-clients yes",
            f"user {username} on >{password} ~* &* +@all",
            "user default off",
        ],
    )
    tls = TlsServer(server, files, username, password)
    try:
        server.start()
        server.wait_ready(**tls.client_options())
    except BaseException:
        tls.stop()
        raise
    return tls
