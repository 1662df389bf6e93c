"""waitress, held to the API's HTTP rules: framing, body limit, idle time.

waitress (PyPI) parses requests strictly and does its socket I/O in one
thread that multiplexes every connection, handing complete requests to a
bounded pool of threads: an idle keep-alive connection costs a socket and
no thread, and a busy client cannot keep the others waiting. What it does
not do the way this service must is adjusted here, one class per concern:

* ``_Parser``: the body size limit on the decoded body (413 before the
  body is read when Content-Length says it is too large, no
  ``100 Continue`` for a refused request), and 400 for a request whose
  framing is ambiguous (Transfer-Encoding with Content-Length, or on
  HTTP/1.0).
* ``_Channel``: 400 for a body cut short by the client's half-close,
  reading out what the client still sends after an error response, so
  that it reads the answer instead of a reset, and no busy polling while
  a thread writes its response.
* ``_ErrorTask``: the server's own errors in the API's error format,
  quoting at most a short excerpt of the request.
* ``_WSGITask``: keep-alive after a 204 (waitress would close).
* ``_Server``: closes the idlest connections when the connection limit is
  reached rather than stop accepting, and stops gracefully; its threads
  take requests as ``request_dispatcher`` says.

waitress's own checks stay in force: a Content-Length that is not all
digits (``+5``, ``5_0``, two differing values joined by a comma) and a
malformed chunk are a 400, and every error closes the connection.
"""

import dataclasses
import resource
import socket
import time
from typing import Callable

from oslo_log import log as logging
from waitress import adjustments
from waitress import channel as waitress_channel
from waitress import parser as waitress_parser
from waitress import server as waitress_server
from waitress import task as waitress_task
from waitress import utilities
from waitress import wasyncore

from cyborg_clone.common import request_dispatcher

LOG = logging.getLogger(__name__)

# Longest part of a request an error message quotes.
EXCERPT = 64

# After an error response, the longest time spent reading (and dropping)
# what the client still sends before closing the connection.
LINGER_SECONDS = 5

# File descriptors kept for everything but client connections (database,
# logs, RPC, pipes).
RESERVED_FDS = 128

# How long the I/O thread sleeps when nothing happens; a stop wakes it.
_POLL_SECONDS = 1.0
_DRAIN_POLL_SECONDS = 0.05


def plain_error(status, message, path):
    """(content type, body) of a server error, when the app has no format."""
    return 'text/plain; charset=utf-8', message.encode()


@dataclasses.dataclass(frozen=True)
class Settings:
    """How one process serves; every worker of a pool gets the same."""

    threads: int
    client_socket_timeout: int
    max_request_body_size: int
    max_connections: int
    # (status, message, request path) -> (content type, body bytes)
    render_error: Callable = plain_error

    @classmethod
    def from_conf(cls, conf, render_error=plain_error):
        api = conf.api
        return cls(threads=api.threads,
                   client_socket_timeout=api.client_socket_timeout,
                   max_request_body_size=api.max_request_body_size,
                   max_connections=api.max_connections,
                   render_error=render_error)


class _Adjustments(adjustments.Adjustments):
    """waitress's settings plus the two this module adds."""

    _params = adjustments.Adjustments._params + (
        ('body_limit', int),
        ('render_error', lambda value: value),
    )
    _param_map = dict(_params)


def excerpt(text):
    """``text`` cut to EXCERPT characters, for an error message."""
    text = str(text)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + '...'


def body_too_large(limit):
    """The message of a 413."""
    return ('The request body is larger than the %d bytes this service '
            'takes.' % limit)


class BodyTooLarge(utilities.RequestEntityTooLarge):
    def __init__(self, limit):
        super().__init__(body_too_large(limit))


class _Parser(waitress_parser.HTTPRequestParser):
    """waitress's parser with this service's body limit and framing rules.

    waitress's own ``max_request_body_size`` counts the chunked framing
    too; it is set higher (see ``_raw_body_cap``) and only stops a body
    whose framing alone is absurd. The limit is checked here, on the
    decoded size.
    """

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.chunked and 'CONTENT_LENGTH' in self.headers:
            # RFC 9112 6.3: a request smuggling attempt, or a broken proxy.
            raise waitress_parser.ParsingError(
                'Transfer-Encoding and Content-Length are both set.')
        if self.version != '1.1' and 'TRANSFER_ENCODING' in self.headers:
            # RFC 9112 6.1: HTTP/1.0 has no chunked framing.
            raise waitress_parser.ParsingError(
                'Transfer-Encoding is not allowed before HTTP/1.1.')

    def received(self, data):
        consumed = super().received(data)
        too_large = isinstance(self.error, utilities.RequestEntityTooLarge)
        if too_large or (self.error is None and self.headers_finished
                         and self._announced_size() > self.adj.body_limit):
            self.error = BodyTooLarge(self.adj.body_limit)
            self.completed = True
        if self.error is not None:
            # waitress would still invite the body of a refused request.
            self.expect_continue = False
        return consumed

    def _announced_size(self):
        """The body size known so far: Content-Length, or for a chunked
        body the bytes decoded plus the rest of the chunk being read."""
        receiver = self.body_rcv
        if not self.chunked:
            return self.content_length
        return len(receiver) + receiver.chunk_remainder


class _ErrorTask(waitress_task.ErrorTask):
    """An error the server answers itself, in the app's error format."""

    def execute(self):
        error = self.request.error
        message = '%s: %s' % (error.reason, excerpt(error.body))
        if isinstance(error, (BodyTooLarge, utilities.InternalServerError)):
            message = error.body  # ours, and quoting no input
        content_type, body = self.channel.adj.render_error(
            error.code, message, getattr(self.request, 'path', ''))
        self.status = '%d %s' % (error.code, error.reason)
        self.response_headers.append(('Content-Type', content_type))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.channel.linger_on_close = True
        self.write(body)


class _WSGITask(waitress_task.WSGITask):
    """waitress's request task, keeping the connection after a response
    that has no body by definition (204, 304)."""

    _bodiless = False

    def build_response_header(self):
        # waitress closes an HTTP/1.1 connection after any response
        # without Content-Length, and drops that header from a 204: every
        # DELETE would cost the client its connection.
        self._bodiless = (
            not self.has_body and self.version == '1.1'
            and self.request.headers.get('CONNECTION', '').lower() != 'close')
        try:
            return super().build_response_header()
        finally:
            self._bodiless = False

    def set_close_on_finish(self):
        if not self._bodiless:
            super().set_close_on_finish()


class _Channel(waitress_channel.HTTPChannel):
    """One client connection."""

    parser_class = _Parser
    task_class = _WSGITask
    error_task_class = _ErrorTask
    # Set once an error response is queued: the client may still be
    # sending the request the error refused.
    linger_on_close = False
    _linger_until = None

    def readable(self):
        if self._linger_until is not None:
            if time.monotonic() > self._linger_until:
                self.will_close = True  # writable() then closes it
                return False
            return True
        if self.server.stopping:
            return False  # no new request once the server is stopping
        return super().readable()

    def writable(self):
        if self._linger_until is not None:
            return self.will_close
        if (self.requests and not self.will_close
                and not self.close_when_flushed
                and self.total_outbufs_len <= self.adj.outbuf_high_watermark):
            # The thread serving the request sends its output itself, and
            # wakes this loop when it is done. Asking poll() about a
            # writable socket meanwhile only spins this loop, taking the
            # interpreter from that thread at every send.
            return False
        return super().writable()

    def handle_read(self):
        if self._linger_until is not None:
            return self._drop_input()
        if self._request_cut_short():
            return
        super().handle_read()

    def _request_cut_short(self):
        """Answer 400 if the client closed its side in the middle of the
        body it announced (waitress would just close the connection)."""
        request = self.request
        if request is None or not request.headers_finished or (
                request.completed):
            return False
        try:
            if self.socket.recv(1, socket.MSG_PEEK):
                return False
        except OSError:
            return False  # handle_read sees the error and closes
        request.error = utilities.BadRequest(
            'the connection ended before the end of the request body')
        request.completed = True
        with self.requests_lock:
            self.requests.append(request)
            self.request = None
            if len(self.requests) == 1:
                self.server.add_task(self)
        return True

    def handle_close(self):
        if (self.linger_on_close and self._linger_until is None
                and self.connected and not self.requests):
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            else:
                # Closing with unread input would reset the connection and
                # the client could lose the response it has not read yet.
                self._linger_until = time.monotonic() + LINGER_SECONDS
                self.will_close = self.close_when_flushed = False
                return
        super().handle_close()

    def _drop_input(self):
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except OSError:
            data = b''
        if not data or time.monotonic() > self._linger_until:
            super().handle_close()


class _Server(waitress_server.TcpWSGIServer):
    """Serves on an already bound socket; ``serve()`` runs it here."""

    channel_class = _Channel

    def __init__(self, app, sock, adj):
        self.stopping = False
        self._stop_deadline = None
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        dispatcher = request_dispatcher.RequestDispatcher()
        dispatcher.set_thread_count(adj.threads)
        super().__init__(app, map={}, _sock=sock, dispatcher=dispatcher,
                         adj=adj, bind_socket=False, sockinfo=sockinfo)

    def readable(self):
        """Whether to accept; waitress's, but making room at the limit
        where waitress would stop accepting."""
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if len(self.active_channels) >= self.adj.connection_limit:
            self._make_room()
            return False  # until the next pass has closed them
        return self.accepting

    def _make_room(self):
        """Close the idlest sixteenth of the connections not being served,
        so that a crowd of idle ones cannot lock new clients out."""
        idle = sorted(
            (channel for channel in self.active_channels.values()
             if not channel.requests and not channel.will_close
             and not channel.total_outbufs_len),
            key=lambda channel: channel.last_activity)
        idle = idle[:max(1, self.adj.connection_limit // 16)]
        if not idle:
            return  # all busy: new clients wait in the backlog
        LOG.info('Closing the %d idlest of %d connections: the connection '
                 'limit is reached', len(idle), len(self.active_channels))
        for channel in idle:
            channel.will_close = True

    def serve(self):
        """Serve until ``stop()`` and the requests in progress are done."""
        try:
            while not self._stopped():
                wasyncore.loop(timeout=_DRAIN_POLL_SECONDS if self.stopping
                               else _POLL_SECONDS,
                               map=self._map, use_poll=True, count=1)
        finally:
            self.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(self._map)

    def stop(self, timeout):
        """Stop accepting, close idle connections, let requests in progress
        end (for ``timeout`` seconds at most). Any thread; returns at once.
        """
        def begin():
            self._stop_deadline = time.monotonic() + timeout
            self.stopping = True
            # The listening socket only: the trigger stays for the drain.
            wasyncore.dispatcher.close(self)
        self.trigger.pull_trigger(begin)

    def _stopped(self):
        if not self.stopping:
            return False
        busy = False
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                busy = True
            elif not channel.will_close:
                # Idle, or waiting for the rest of a request: done.
                channel.will_close = True
                busy = True  # closed by the next loop pass
        return not busy or time.monotonic() > self._stop_deadline


def _raw_body_cap(limit):
    # The chunked framing of a body of ``limit`` bytes sent sensibly.
    return 2 * limit + 65536


def allow_connections(wanted):
    """Raise this process's open file limit for ``wanted`` client
    connections if it can; how many connections fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_FDS
    if soft < needed and (hard == resource.RLIM_INFINITY or soft < hard):
        soft = needed if hard == resource.RLIM_INFINITY else min(needed,
                                                                  hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft < needed:
        LOG.warning('The open file limit (%d) allows %d client '
                    'connections, not [api]max_connections (%d)',
                    soft, soft - RESERVED_FDS, wanted)
        return max(1, soft - RESERVED_FDS)
    return wanted


def make_server(app, sock, settings):
    """A server for ``app`` on the listening ``sock``: call ``serve()``
    in the thread that is to do the I/O, ``stop()`` from any."""
    adj = _Adjustments(
        threads=settings.threads,
        channel_timeout=settings.client_socket_timeout,
        # How often idle connections are looked for, so a connection is
        # closed between one and one and a half timeouts after it fell
        # silent.
        cleanup_interval=max(1, min(30, settings.client_socket_timeout // 2)),
        connection_limit=allow_connections(settings.max_connections),
        body_limit=settings.max_request_body_size,
        max_request_body_size=_raw_body_cap(settings.max_request_body_size),
        render_error=settings.render_error,
        # select() stops at file descriptor 1024.
        asyncore_use_poll=True,
        # Forwarded headers reach the app, as under any other server.
        clear_untrusted_proxy_headers=False,
        # A client resetting its connection is not the service's fault.
        log_socket_errors=False,
        ident='',
    )
    return _Server(app, sock, adj)
