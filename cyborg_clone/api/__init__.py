"""The REST API: a Pecan + WSME WSGI application."""
