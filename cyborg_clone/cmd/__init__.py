"""Console commands, and where eventlet monkey patching happens.

Only ``cyborg-clone-api`` and ``cyborg-clone-all-in-one`` are patched:
they serve HTTP with ``eventlet.wsgi``, which runs every connection in a
green thread, so anything that blocks in an unpatched call (a socket to
RabbitMQ or Keystone, ``time.sleep``, a lock) would stall every other
request of the worker. The patch must run before anything imports
``socket``, ``threading`` or ``time`` (locks made before it stay real
locks), so those two modules call ``monkey_patch()`` first thing, and this
package imports nothing but ``warnings`` at module level: Python runs this
file before the command's module.

The conductor, the agent and dbsync run plain threads: their concurrency
is oslo.messaging's threading executor and a few periodic threads, and
eventlet is deprecated upstream, so nothing there depends on it.
"""

import warnings

# Importing eventlet (oslo.messaging does, in every command) warns that it
# is deprecated; operators can do nothing about it, the choice is above.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')


def monkey_patch():
    """Make sockets, threads and sleeps green; call before other imports."""
    import eventlet

    eventlet.monkey_patch()
