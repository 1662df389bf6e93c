"""cyborg_clone: accelerator management for OpenStack clouds."""

from cyborg_clone.common import concurrency

# Here, before any module of the package imports oslo.messaging: every
# entry point imports the package first.
concurrency.use_threads()
