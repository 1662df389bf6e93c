"""WSME request and response types, one module per resource.

This package is the only place that imports WSME; controllers use
``base.expose`` and the types defined here.
"""
