"""Engines, sessions and the reader/writer transactions objects run in.

``configure(conf)`` is called once per process by ``cmd``. Objects then use::

    with db_api.reader() as session: ...   # read-only work
    rows = db_api.read(statement)          # one SELECT, the cheapest
    with db_api.writer() as session: ...   # commits on success

SQLite (the embedded default) is opened in WAL mode with a busy timeout so
several local processes can share the file, with foreign keys enforced, and
writer transactions start with ``BEGIN IMMEDIATE``: a deferred transaction
that reads first and writes later can fail at once with SQLITE_BUSY when
another writer got in between, and the busy timeout cannot save it.
"""

import contextlib
import contextvars
import os

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm

_facade = None

# The statement counters of the work running in this thread (or green
# thread), innermost last; see counting_statements().
_counters = contextvars.ContextVar('cyborg_clone_statements', default=())


class _Facade:
    def __init__(self, url, debug=False, busy_timeout_ms=30000):
        self.url = sa.engine.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == 'sqlite'
        if self.is_sqlite:
            self.writer_engine = self._sqlite_engine(
                'BEGIN IMMEDIATE', debug, busy_timeout_ms)
            self.reader_engine = self._sqlite_engine(
                'BEGIN', debug, busy_timeout_ms)
            # read()'s: no BEGIN, since SQLite runs one statement in a
            # snapshot of its own, and no event listener at all: with one,
            # SQLAlchemy dispatches every event of every statement, close
            # to half the cost of a one-row read. read() counts its
            # statement itself.
            self.statement_engine = self._sqlite_engine(
                None, debug, busy_timeout_ms)
        else:
            options = {}
            if self.url.get_backend_name() == 'mysql':
                # InnoDB's default, REPEATABLE READ, reads every SELECT of a
                # transaction from its first snapshot and takes gap and
                # shared locks for UPDATE ... WHERE ... IN (SELECT ...).
                # A claim that lost a handle to another transaction would
                # then be shown the same handle as free again and again,
                # and concurrent binds deadlock. READ COMMITTED is what
                # PostgreSQL does: each statement sees the latest commits.
                options['isolation_level'] = 'READ COMMITTED'
            self.writer_engine = sa.create_engine(
                self.url, echo=debug, pool_pre_ping=True, **options)
            self.reader_engine = self.writer_engine
            # Not a pool of its own: that would double the connections.
            self.statement_engine = self.reader_engine
        for engine in {self.writer_engine, self.reader_engine}:
            event.listen(engine, 'before_cursor_execute', _count_statement)
        self._writer = orm.sessionmaker(self.writer_engine,
                                        expire_on_commit=False)
        self._reader = orm.sessionmaker(self.reader_engine,
                                        expire_on_commit=False)

    def _sqlite_engine(self, begin, debug, busy_timeout_ms):
        engine = sa.create_engine(
            self.url, echo=debug,
            connect_args={'check_same_thread': False,
                          'timeout': busy_timeout_ms / 1000.0})

        @event.listens_for(engine, 'connect')
        def _on_connect(dbapi_conn, _record):
            # Take transaction control away from pysqlite; 'begin' below
            # issues the BEGIN we want.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            if self.url.database not in (None, '', ':memory:'):
                cursor.execute('PRAGMA journal_mode=WAL')
            cursor.execute('PRAGMA foreign_keys=ON')
            cursor.execute('PRAGMA busy_timeout=%d' % busy_timeout_ms)
            cursor.close()

        if begin is not None:
            @event.listens_for(engine, 'begin')
            def _on_begin(conn):
                conn.exec_driver_sql(begin)

        return engine

    def engines(self):
        return list({id(engine): engine for engine in (
            self.writer_engine, self.reader_engine,
            self.statement_engine)}.values())

    def dispose(self):
        for engine in self.engines():
            engine.dispose()


class StatementCount:
    """How many SQL statements a piece of work sent."""

    def __init__(self):
        self.value = 0


def _count_statement(conn, cursor, statement, *args):
    counters = _counters.get()
    # Transaction control is not work the caller asked for.
    if counters and not statement.startswith(('BEGIN', 'PRAGMA')):
        for counter in counters:
            counter.value += 1


@contextlib.contextmanager
def counting_statements():
    """Count the statements sent inside the block by this thread only, so
    work running in other threads at the same time does not blur it.
    Blocks nest: an outer count includes the inner ones."""
    counter = StatementCount()
    token = _counters.set(_counters.get() + (counter,))
    try:
        yield counter
    finally:
        _counters.reset(token)


def database_url(conf):
    """The configured database URL, or the embedded SQLite file."""
    if conf.database.connection:
        return conf.database.connection
    return 'sqlite:///' + os.path.join(conf.state_path, 'cyborg_clone.sqlite')


def configure(conf):
    """Create this process's engines from ``conf`` (idempotent per URL)."""
    global _facade
    url = database_url(conf)
    if _facade is not None and str(_facade.url) == str(
            sa.engine.make_url(url)):
        return
    if _facade is not None:
        _facade.dispose()
    if url.startswith('sqlite:///'):
        os.makedirs(os.path.dirname(os.path.abspath(url[10:])) or '.',
                    exist_ok=True)
    _facade = _Facade(url, debug=conf.database.connection_debug,
                      busy_timeout_ms=conf.database.sqlite_busy_timeout)


def reset():
    """Forget the engines (tests switch databases between cases)."""
    global _facade
    if _facade is not None:
        _facade.dispose()
    _facade = None


def _get():
    if _facade is None:
        raise RuntimeError('database not configured: call '
                           'cyborg_clone.db.api.configure(conf) first')
    return _facade


def engines():
    """Every engine in use (one, or SQLite's writer, reader and
    statement reader)."""
    return _get().engines()


def writer_engine():
    return _get().writer_engine


@contextlib.contextmanager
def reader():
    """A session in a transaction meant for reads only."""
    with _get()._reader() as session:
        with session.begin():
            yield session


def read(statement, params=None):
    """The rows of one SELECT, the cheapest way: a pooled Core connection,
    no ORM session (its unit of work, its commit round trip). Work of
    several statements that must see one snapshot uses reader()."""
    facade = _get()
    engine = facade.statement_engine
    with engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    if engine is not facade.reader_engine:  # it has no _count_statement
        for counter in _counters.get():
            counter.value += 1
    return rows


@contextlib.contextmanager
def writer():
    """A session in a transaction committed when the block succeeds."""
    with _get()._writer() as session:
        with session.begin():
            yield session


# MySQL/MariaDB's deadlock (1213) and lock wait timeout (1205), and
# PostgreSQL's deadlock_detected: the database rolled the transaction back
# and says to run it again.
_RETRYABLE = {1213, 1205, '40P01'}


def is_deadlock(error):
    """True when ``error`` (an SQLAlchemy error) is a deadlock the database
    resolved by rolling this transaction back."""
    orig = getattr(error, 'orig', None)
    code = getattr(orig, 'pgcode', None) or (
        orig.args[0] if getattr(orig, 'args', None) else None)
    return isinstance(error, sa.exc.DBAPIError) and code in _RETRYABLE


def retry_on_deadlock(function, attempts=5):
    """``function()``, run again (up to ``attempts`` times) when its
    transaction is picked as a deadlock victim; it must do all its work in
    transactions of its own."""
    for attempt in range(1, attempts + 1):
        try:
            return function()
        except sa.exc.DBAPIError as error:
            if attempt == attempts or not is_deadlock(error):
                raise
