"""The oracle suite: jwtcheck compared with the real JWT libraries (jsonwebtoken 9.0.0, jose 6, PyJWT 2.8.0).

``tests/oracle/install.sh`` installs the libraries into a cache outside the repository; the libraries are
asked in one batch process each (``js/*.mjs``, ``pyjwt_runner.py``) and jwtcheck through its command line
and JSON contract only. ``python -m tests.oracle.report`` prints the agreement figures.
"""
