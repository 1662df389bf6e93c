"""Undo what oslo.log's setup() does to the test process, for tests that
run a command's main() in-process.

Use it around the call, inside the test: pytest swaps its own capture
handlers on the root logger between setup, call and teardown, so a
fixture spanning phases would restore the wrong ones.
"""

import contextlib
import logging
import sys


@contextlib.contextmanager
def preserved():
    """Restore the root handlers, logger levels and excepthook on exit."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logger.level
              for name, logger in logging.root.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    root_level = root.level
    excepthook = sys.excepthook
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
        root.setLevel(root_level)
        sys.excepthook = excepthook
