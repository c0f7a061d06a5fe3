"""Listeners: commands."""
