"""Asks PyJWT 2.8.0 about every case: ``python pyjwt_runner.py PYJWT_DIR`` reads the cases as one JSON document
on stdin and writes the results as one JSON document on stdout.

It runs in its own interpreter with PYJWT_DIR (``pip install --target``) first on sys.path, because the
project's venv holds a newer PyJWT. The call is the library's normal one, ``jwt.decode(token, key,
algorithms=..., audience=..., issuer=..., leeway=...)``. PyJWT 2.8.0 reads its clock in
``PyJWT._validate_claims`` as ``datetime.now(tz=timezone.utc).timestamp()`` (jwt/api_jwt.py), so the clock is
pinned by replacing the ``datetime`` name in ``jwt.api_jwt`` with a class whose ``now`` returns the instant.
This file imports nothing of the project: it must run with only the standard library, PyJWT and cryptography.
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import UTC, datetime
from typing import Any


class FrozenDatetime(datetime):
    frozen: datetime = datetime.fromtimestamp(0, UTC)

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return cls.frozen if tz is None else cls.frozen.astimezone(tz)


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    import jwt
    import jwt.api_jwt

    if jwt.__version__ != "2.8.0" or not jwt.__file__ or not jwt.__file__.startswith(sys.argv[1]):
        raise SystemExit(f"expected PyJWT 2.8.0 from {sys.argv[1]}, got {jwt.__version__} from {jwt.__file__}")
    jwt.api_jwt.datetime = FrozenDatetime  # type: ignore[misc]

    document = json.load(sys.stdin)
    results: dict[str, Any] = {}
    for item in document["cases"]:
        key = document["secret"] if item["key"] == "hs" else document["public_pem"]
        audience = item["audience"]
        if audience is not None and len(audience) == 1:
            audience = audience[0]
        FrozenDatetime.frozen = datetime.fromtimestamp(item["at_ms"] / 1000, UTC)
        try:
            jwt.decode(
                item["token"],
                key,
                algorithms=item["algorithms"],
                audience=audience,
                issuer=item["issuer"],
                leeway=item["leeway"],
            )
        except Exception as error:
            kind = type(error)
            results[item["id"]] = {
                "accepted": False,
                "error": {
                    "name": kind.__name__,
                    "qualified_name": f"{kind.__module__}.{kind.__qualname__}",
                    "message": str(error),
                    "stack": traceback.format_exc(),
                },
            }
        else:
            results[item["id"]] = {"accepted": True, "error": None}
    json.dump({"library": "pyjwt", "version": jwt.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
