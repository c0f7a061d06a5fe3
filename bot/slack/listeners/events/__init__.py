"""Listeners: events."""
