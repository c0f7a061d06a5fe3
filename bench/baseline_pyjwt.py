"""The baseline a user would reach for: PyJWT's decode (signature off, exp/nbf/iat/aud/iss on) per token.

Reads a log on stdin, finds tokens with one regex, prints one JSON document. Run as its own process.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import jwt

TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
AUDIENCE, ISSUER, ALGORITHM = "orders-api", "https://login.acme.test/", "HS256"  # as bench.data
OPTIONS: Any = {
    "verify_signature": False,
    "verify_exp": True,
    "verify_nbf": True,
    "verify_iat": True,
    "verify_aud": True,
    "verify_iss": True,
}


def main() -> None:
    results: list[dict[str, Any]] = []
    for match in TOKEN.finditer(sys.stdin.read()):
        try:
            jwt.decode(match.group(0), options=OPTIONS, audience=AUDIENCE, issuer=ISSUER, algorithms=[ALGORITHM])
            results.append({"valid": True})
        except jwt.PyJWTError as error:
            results.append({"valid": False, "error": str(error)})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
