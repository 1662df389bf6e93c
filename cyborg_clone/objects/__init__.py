"""Persistence objects: plain classes that own their SQL.

Each runs its queries in ``db.api.reader()`` / ``writer()`` transactions and
returns frozen dataclasses, so nothing above this layer sees a session.
"""
