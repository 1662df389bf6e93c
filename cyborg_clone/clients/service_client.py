"""What our clients of other OpenStack services share: a keystoneauth1
adapter built, on first use, from the service's option group."""

from keystoneauth1 import loading as ks_loading


class ServiceClient:
    """Subclasses name their option group in ``GROUP``."""

    GROUP = None

    def __init__(self, conf):
        self.conf = conf
        self._adapter = None

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
