"""Reading a tenant's DCP tarball safely and checking what it holds."""

import contextlib
import dataclasses
import gzip
import hashlib
import os
import tarfile
import zlib

from cyborg_clone.conductor import dcp_manifest

# Defined beside the manifest rules; callers catch dcp_archive.DCPError.
DCPError = dcp_manifest.DCPError
DCP_NAME = 'design.dcp'

_MIB = 1024 * 1024
_CHUNK = 64 * 1024
# tarfile reads a pax or GNU long-name header whole, sized by the header
# itself; no honest header comes near this, a forged one could ask for GiBs.
_MAX_SINGLE_READ = 1024 * 1024
_GZIP_MAGIC = b'\x1f\x8b'
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
_UNSAFE_TYPES = {tarfile.SYMTYPE: 'a symbolic link',
                 tarfile.LNKTYPE: 'a hard link',
                 tarfile.CHRTYPE: 'a character device',
                 tarfile.BLKTYPE: 'a block device',
                 tarfile.FIFOTYPE: 'a FIFO'}


@dataclasses.dataclass(frozen=True)
class Limits:
    """Sizes in bytes; ``max_members`` counts every header, directories
    included."""

    max_tarball_bytes: int
    max_members: int
    max_extracted_bytes: int

    @classmethod
    def from_conf(cls, conf):
        opts = conf.fpga_image
        return cls(max_tarball_bytes=opts.max_dcp_tarball_mb * _MIB,
                   max_members=opts.max_members,
                   max_extracted_bytes=opts.max_extracted_mb * _MIB)


@dataclasses.dataclass(frozen=True)
class CheckedDCP:
    """A checked design: its manifest and where its files now are."""

    manifest: dict
    dcp_path: str
    dcp_sha256: str
    manifest_path: str
    size: int
    dcp_member: str = ''  # the DCP's name inside the tarball, for the log


def check_and_extract(tar_path, work_dir, limits):
    """Check the DCP tarball at ``tar_path`` and extract its design.

    Accepted: a plain or gzip-compressed tar (told apart by the gzip magic
    bytes) of regular files and directories only, with a manifest and the
    ``*.dcp`` it describes at the top level (as Huawei's kit packs them),
    or in the one directory holding everything (``to_aws/x.dcp``); ``./``
    is ignored; deeper members are checked and counted, never extracted.
    The manifest is ``manifest.json``, else ``manifest.txt``, else the one
    ``<name>.manifest.txt`` (AWS F1's HDK); its ``dcp_file_name``, when
    given, picks the design, otherwise there must be one ``*.dcp``. Every
    header is checked before anything is written, and the design is
    written under fixed names, so a member name never becomes a path on
    disk.

    ``work_dir`` (created if missing) must not hold ``design.dcp`` or the
    manifest's fixed name yet. Returns a ``CheckedDCP`` whose files are in
    it. Raises ``DCPError`` (CORRUPT_ARCHIVE, INPUT_SIZE_ILLEGAL,
    MANIFEST_NOT_FOUND, MANIFEST_PARSE_FAILED, UNSUPPORTED_CHIP,
    PCIID_SYNTAX_INVALID, DCP_NOT_FOUND, DCP_INTEGRITY_UNVERIFIED) leaving
    no file behind, and before even creating ``work_dir`` unless only the
    DCP's own checksum failed. OSError of the local disk passes through.
    """
    size = os.path.getsize(tar_path)
    if size > limits.max_tarball_bytes:
        raise _too_big('the tarball', size, limits.max_tarball_bytes)
    try:
        with _open_tar(tar_path) as tar:
            files = _root_files(_checked_members(tar, limits))
            manifest_member, manifest_format = _manifest_member(files)
            raw = tar.extractfile(manifest_member).read()
            manifest = dcp_manifest.parse(raw, manifest_format)
            dcp_member = _dcp_member(
                files, manifest.get(dcp_manifest.DCP_FILE_NAME_KEY),
                manifest_member.name)
            expected = dcp_manifest.expected_sha256(manifest,
                                                    manifest_format)
            os.makedirs(work_dir, exist_ok=True)
            dcp_path = _path_in(work_dir, DCP_NAME)
            # The format's own name: the toolchain tells the formats apart
            # by it, and the tenant's member name never becomes a path.
            manifest_path = _path_in(work_dir, manifest_format)
            # Nested so that any failure removes both new files.
            with _new_file(dcp_path) as out:
                digest = _copy_hashed(tar.extractfile(dcp_member), out,
                                      limits.max_extracted_bytes - len(raw))
                if digest != expected:
                    raise DCPError('DCP_INTEGRITY_UNVERIFIED',
                                   '%s has sha256 %s but the manifest says '
                                   '%s' % (dcp_member.name, digest, expected))
                with _new_file(manifest_path) as manifest_out:
                    manifest_out.write(raw)
    except _READ_ERRORS as error:
        raise DCPError('CORRUPT_ARCHIVE',
                       'not a readable tar or tar.gz file (%s)' % error
                       ) from None
    return CheckedDCP(manifest=manifest, dcp_path=dcp_path,
                      dcp_sha256=digest, manifest_path=manifest_path,
                      size=size, dcp_member=dcp_member.name)


@contextlib.contextmanager
def _open_tar(path):
    with contextlib.ExitStack() as stack:
        stream = stack.enter_context(open(path, 'rb'))
        magic = stream.read(len(_GZIP_MAGIC))
        stream.seek(0)
        if magic == _GZIP_MAGIC:
            stream = stack.enter_context(gzip.GzipFile(fileobj=stream))
        yield stack.enter_context(
            tarfile.open(fileobj=_BoundedReads(stream), mode='r:'))


class _BoundedReads:
    """A read-only file for tarfile that refuses oversized single reads."""

    def __init__(self, stream):
        self._stream = stream

    def read(self, size=-1):
        if size is None or not 0 <= size <= _MAX_SINGLE_READ:
            raise tarfile.ReadError('a header claims %s bytes' % size)
        return self._stream.read(size)

    def seek(self, *args):
        return self._stream.seek(*args)

    def tell(self):
        return self._stream.tell()


def _checked_members(tar, limits):
    """Every member as (path components, TarInfo), after checking each
    header, the count and the total size, before anything is extracted."""
    members, seen, total = [], set(), 0
    while (member := tar.next()) is not None:
        if len(members) == limits.max_members:
            raise DCPError('INPUT_SIZE_ILLEGAL', 'the tarball has more than '
                           '%d members' % limits.max_members)
        parts = _safe_parts(member)
        if parts in seen:
            raise _corrupt(member, 'appears twice')
        seen.add(parts)
        if member.size > limits.max_extracted_bytes:
            raise _too_big(member.name, member.size,
                           limits.max_extracted_bytes)
        total += member.size
        if total > limits.max_extracted_bytes:
            raise _too_big('the total of all members', total,
                           limits.max_extracted_bytes)
        members.append((parts, member))
    return members


def _safe_parts(member):
    """The member's path components; raises unless it is a regular file or
    directory whose name stays inside the directory it is extracted to."""
    name = member.name
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE,
                           tarfile.DIRTYPE):
        kind = _UNSAFE_TYPES.get(member.type, 'an unsupported member type')
        raise _corrupt(member, 'is %s' % kind)
    if not name or '\0' in name or name.startswith(('/', '\\')):
        raise _corrupt(member, 'has an absolute or empty name')
    parts = tuple(part for part in name.split('/') if part not in ('', '.'))
    if '..' in parts:
        raise _corrupt(member, 'leaves its directory with ..')
    if member.size < 0 or (not parts and not member.isdir()):
        raise _corrupt(member, 'has a broken header')
    return parts


def _root_files(members):
    """The regular files at the root, by name: the top level, or the only
    top-level directory when everything sits inside it."""
    tops = {parts[0] for parts, _ in members if parts}
    nested = all(len(parts) > 1 or member.isdir()
                 for parts, member in members)
    root = tuple(tops) if len(tops) == 1 and nested else ()
    return {parts[-1]: member for parts, member in members
            if member.isfile() and parts[:-1] == root}


def _manifest_member(files):
    """The manifest member among the root ``files`` and its format."""
    json_manifest = files.get(dcp_manifest.MANIFEST_JSON)
    if json_manifest is not None:
        member, manifest_format = json_manifest, dcp_manifest.MANIFEST_JSON
    else:
        texts = sorted(name for name in files
                       if dcp_manifest.format_of(name)
                       == dcp_manifest.MANIFEST_TXT)
        if dcp_manifest.MANIFEST_TXT in files:
            texts = [dcp_manifest.MANIFEST_TXT]
        if len(texts) != 1:
            raise DCPError('MANIFEST_NOT_FOUND', 'no %s or %s at the top of '
                           'the tarball or of its one directory%s' % (
                               dcp_manifest.MANIFEST_JSON,
                               dcp_manifest.MANIFEST_TXT,
                               '; which of %s applies is unclear'
                               % ', '.join(texts) if texts else ''))
        member, manifest_format = files[texts[0]], dcp_manifest.MANIFEST_TXT
    limit = dcp_manifest.MAX_MANIFEST_BYTES
    if member.size > limit:
        raise _too_big(member.name, member.size, limit)
    return member, manifest_format


def _dcp_member(files, wanted, manifest_name):
    """The design among the root ``files``: the one ``wanted`` names (the
    manifest's dcp_file_name), or the only ``*.dcp`` when it names none."""
    dcps = sorted(name for name in files if name.lower().endswith('.dcp'))
    found = 'found %d%s' % (len(dcps), ''.join(' ' + n for n in dcps))
    if wanted is not None:
        if wanted not in dcps:
            raise DCPError('DCP_NOT_FOUND', '%s names dcp_file_name %r, '
                           'which is no .dcp file beside it; %s'
                           % (manifest_name, wanted[:128], found))
        return files[wanted]
    if len(dcps) != 1:
        raise DCPError('DCP_NOT_FOUND', 'expected one .dcp file beside %s, '
                       '%s; or name one with dcp_file_name'
                       % (manifest_name, found))
    return files[dcps[0]]


def _path_in(work_dir, name):
    """``work_dir``/``name``, refusing anything that resolves elsewhere
    (e.g. a link someone planted in the work dir)."""
    root = os.path.realpath(work_dir)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root:
        raise ValueError('%s resolves outside the work directory %s'
                         % (name, root))
    return path


def _copy_hashed(source, out, budget):
    """Stream ``source`` into ``out``, at most ``budget`` bytes (counted as
    written, since a corrupt header may lie); returns the sha256."""
    digest, written = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        written += len(chunk)
        if written > budget:
            raise _too_big('the DCP', written, budget)
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _new_file(path):
    """A new file open for writing, removed if the block fails. Exclusive
    creation never overwrites a file nor follows a planted link."""
    out = open(path, 'xb')
    try:
        with out:
            yield out
    except BaseException:
        os.unlink(path)
        raise


def _too_big(what, size, limit):
    return DCPError('INPUT_SIZE_ILLEGAL', '%s is %d bytes, over the limit '
                    'of %d' % (what, size, limit))


def _corrupt(member, why):
    return DCPError('CORRUPT_ARCHIVE', 'member %r %s' % (member.name, why))

