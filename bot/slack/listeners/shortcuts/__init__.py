"""Listeners: shortcuts."""
