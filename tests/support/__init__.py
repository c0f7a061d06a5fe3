"""Helpers shared by the tests: real tokens made with PyJWT, fixed instants."""
