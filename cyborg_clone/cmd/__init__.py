"""Console commands: one module per command; the start-up they share is
``common/startup.py``.

Every command runs on plain threads: the API's HTTP server
(common/http_server.py) has an I/O thread and a bounded pool of request
threads, RPC servers use oslo.messaging's threading executor, and periodic
tasks have a thread each. Nothing is monkey patched, and eventlet is never
imported (common/concurrency.py).
"""
