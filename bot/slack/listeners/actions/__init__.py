"""Listeners: actions."""
