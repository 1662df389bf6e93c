"""Pecan controllers: HTTP parsing, authorisation, then a call."""
