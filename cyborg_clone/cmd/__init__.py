"""Console commands: one module per command, the start-up they share in
``startup``.

Every command runs on plain threads: the API's HTTP server
(common/http_server.py) has an I/O thread and a bounded pool of request
threads, RPC servers use oslo.messaging's threading executor, and periodic
tasks have a thread each. Nothing is monkey patched.
"""

import warnings

# oslo.service, which oslo.messaging needs, still requires eventlet, and
# oslo.utils and futurist import it when it is installed, to see whether a
# program patched the standard library: that import warns that it is
# deprecated. Operators can do nothing about it, and this service never
# uses it (tests/unit/test_no_eventlet.py).
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
