"""Where tests/oracle/install.sh puts the libraries (the same rules as the script), and installing on demand."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALL_SH = HERE / "install.sh"
LOCKFILE = HERE / "js" / "package-lock.json"


class OracleUnavailable(Exception):
    """The libraries are not installed and could not be (no npm, no network, a failed install)."""


@dataclass(frozen=True)
class OraclePaths:
    node: str
    node_modules: Path
    pyjwt: Path


def cache_root() -> Path:
    explicit = os.environ.get("JWTCHECK_ORACLE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jwtcheck-oracle"


def _dirs() -> tuple[Path, Path]:
    lock_hash = hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()[:16]
    root = cache_root()
    return root / f"npm-{lock_hash}", root / "pyjwt-2.8.0"


def installed() -> bool:
    npm, pyjwt = _dirs()
    return (npm / ".complete").is_file() and (pyjwt / ".complete").is_file()


def ensure_installed() -> OraclePaths:
    """The installed libraries; install.sh is run first when they are missing (a fresh checkout)."""
    node = shutil.which("node")
    if node is None:
        raise OracleUnavailable("node is not installed (Node 20 is needed for jsonwebtoken and jose)")
    if not installed():
        bash = shutil.which("bash")
        if bash is None:
            raise OracleUnavailable("bash is not installed")
        done = subprocess.run(
            [bash, str(INSTALL_SH)],
            env={**os.environ, "PYTHON": sys.executable},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not installed():
            output = (done.stdout + done.stderr).strip()[-2000:]
            raise OracleUnavailable(f"tests/oracle/install.sh failed (exit {done.returncode}):\n{output}")
    npm, pyjwt = _dirs()
    return OraclePaths(node=node, node_modules=npm / "node_modules", pyjwt=pyjwt)
