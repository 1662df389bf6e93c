"""What our clients of other OpenStack services share: a keystoneauth1
adapter built, on first use, from the service's option group."""

import os
import threading
import weakref

from keystoneauth1 import loading as ks_loading

# (client class, id of its conf, pid) -> (weak reference to the conf,
# client): see ServiceClient.shared.
_SHARED = {}
_SHARED_LOCK = threading.Lock()


class ServiceClient:
    """Subclasses name their option group in ``GROUP``."""

    GROUP = None

    def __init__(self, conf):
        self.conf = conf
        self._adapter = None

    @classmethod
    def shared(cls, conf):
        """This process's client of this kind for ``conf``.

        A client holds a keystoneauth session: its token and its
        connections. One made per call logs in to Keystone and opens a
        new connection every time (every bind's event to Nova, every
        image download); this one is made once a process (a forked
        worker makes its own) and used by all its threads.
        """
        key = (cls, id(conf), os.getpid())
        with _SHARED_LOCK:
            ref, client = _SHARED.get(key, (None, None))
            if client is None or ref() is not conf:
                for stale in [k for k, (r, _) in _SHARED.items()
                              if r() is None or k[2] != key[2]]:
                    del _SHARED[stale]
                client = cls(conf)
                _SHARED[key] = (weakref.ref(conf), client)
            return client

    @property
    def configured(self):
        """Whether the group sets an auth plugin; unset means the
        service is not to be called at all."""
        return bool(self.conf[self.GROUP].auth_type)

    @property
    def adapter(self):
        if self._adapter is None:
            auth = ks_loading.load_auth_from_conf_options(self.conf,
                                                          self.GROUP)
            # The session's own count covers what bypasses the adapter:
            # the auth plugin's requests to Keystone (token, discovery).
            session = ks_loading.load_session_from_conf_options(
                self.conf, self.GROUP, auth=auth,
                connect_retries=self.conf[self.GROUP].connect_retries or 0)
            self._adapter = ks_loading.load_adapter_from_conf_options(
                self.conf, self.GROUP, session=session, auth=auth)
        return self._adapter
