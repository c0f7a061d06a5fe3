"""jwtcheck: tells an on-call engineer why an API refused a JWT."""

__version__ = "0.1.0"
