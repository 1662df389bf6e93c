"""The build log a tenant gets back: timestamped lines, shipped as a tar."""

import datetime
import io
import tarfile


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class BuildLog:
    """Lines ``<UTC time> <LEVEL> <text>`` about one build.

    The log is uploaded into the tenant's bucket, so callers write facts
    about the design and the build only: never credentials, signed URLs,
    configuration or internal host paths beyond the build's own.
    """

    def __init__(self, clock=_utc_now):
        self._clock = clock
        self._lines = []

    def info(self, msg, *args):
        """Add ``msg % args`` (``msg`` as is without args), like logging."""
        self._add('INFO', msg, args)

    def error(self, msg, *args):
        self._add('ERROR', msg, args)

    @property
    def text(self):
        """The whole log, one line per entry line, newline-terminated."""
        return ''.join(line + '\n' for line in self._lines)

    def write_tar(self, path, image_id):
        """Write a tar file at ``path`` holding ``<image_id>_build.log``."""
        data = self.text.encode('utf-8')
        member = tarfile.TarInfo('%s_build.log' % image_id)
        member.size = len(data)
        member.mode = 0o644
        member.mtime = int(self._clock().timestamp())
        with tarfile.open(path, 'w') as tar:
            tar.addfile(member, io.BytesIO(data))

    def _add(self, level, msg, args):
        text = msg % args if args else msg
        stamp = self._clock().strftime('%Y-%m-%dT%H:%M:%SZ')
        # Each line of a multi-line text (a tool's output) keeps the prefix,
        # so the log can be grepped and read line by line.
        for line in text.splitlines() or ['']:
            self._lines.append('%s %s %s' % (stamp, level, line))
