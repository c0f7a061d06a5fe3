"""Listeners: views (modal submissions)."""
