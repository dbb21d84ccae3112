"""The container of a saved model: an uncompressed ``.npz`` written atomically, read bounded.

Nothing here knows about estimators. :func:`write_atomic` puts a file in
place whole or not at all; :class:`Archive` reads one back without ever
trusting it: a regular file only (never blocking on a pipe), every zip
entry stored uncompressed with sizes that fit the file, and every read
bounded by the size declared for it. The arrays read add up to at most the
file's own size; beyond them a reader holds one chunk of :data:`CHUNK`
bytes.

Every problem found while reading is a :class:`FileError` (a
``ValueError``) naming the cause; the caller adds the path.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import stat
import zipfile

import numpy as np

__all__ = ["Archive", "FileError", "write_atomic", "check_dtype"]

#: A model file holds at most this many arrays (a deep pipeline has a few hundred).
MAX_MEMBERS = 10_000
#: Longest ``.npy`` header accepted (numpy writes about 128 bytes for our arrays).
MAX_NPY_HEADER = 4096
#: Bytes copied per read: the only buffer beyond the arrays themselves.
CHUNK = 1 << 20
#: Entries up to this size are read whole (and CRC-checked) before their header is parsed.
SMALL = 1 << 16
#: Longest array rank accepted.
MAX_NDIM = 32
#: Real numeric dtypes as ``dtype.str``: bool, signed, unsigned, float.
_DTYPE = re.compile(r"[<>|][biuf][1248]")
#: The header ``np.save`` writes for a C-ordered real numeric array, parsed
#: without ``ast`` (other valid headers go to NumPy's parser).
_HEADER = re.compile(rb"\{'descr': '([<>|][biuf][1248])', 'fortran_order': False, "
                     rb"'shape': \(((?:\d{1,19}, )*(?:\d{1,19},?)?)\), \} *\n")
#: Random bytes in a temporary name: 2**64 names, never one an attacker can predict.
_TOKEN_BYTES = 8


class FileError(ValueError):
    """The file is not a readable archive of plain arrays (the container, not the model)."""


# -- writing -------------------------------------------------------------------
def _token():
    return secrets.token_hex(_TOKEN_BYTES)


def _create_temporary(folder, base):
    """``(fd, path)`` of a new file next to the target, created exclusively.

    ``O_EXCL | O_NOFOLLOW``: an existing name (file, symlink, pipe, folder)
    is never opened or followed, only skipped; mode 0o666 lets the umask
    decide, as for any new file.
    """
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    for _ in range(100):
        tmp = os.path.join(folder, f".{base[:200]}.{_token()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {folder!r}")


def _fsync_folder(folder):
    """Make the rename durable; best effort where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path, write):
    """Call ``write(file)`` on a fresh temporary file, then rename it to ``path``.

    The temporary file has a unique random name in ``path``'s folder and is
    synced to disk before the rename, so ``path`` always holds one whole
    file: the previous one or the new one, whatever happens meanwhile
    (an exception, Ctrl-C, another thread or process saving to the same
    path). Overwriting keeps the previous file's permission bits.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "f.bin")
    >>> write_atomic(path, lambda f: f.write(b"hello"))
    >>> with open(path, "rb") as fh:
    ...     fh.read()
    b'hello'
    """
    path = os.fsdecode(os.fspath(path))            # bytes paths too
    folder = os.path.dirname(os.path.abspath(path))
    try:
        old = os.stat(path)
        mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else None
    except OSError:
        mode = None
    fd, tmp = _create_temporary(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


# -- reading -------------------------------------------------------------------
def check_dtype(text):
    """The dtype named by ``text`` if it is a real numeric ``dtype.str``, else ValueError.

    Examples
    --------
    >>> check_dtype("<f8")
    dtype('float64')
    """
    try:
        if isinstance(text, str) and _DTYPE.fullmatch(text):
            return np.dtype(text)
    except TypeError:                     # a pattern NumPy has no dtype for, like "<f1"
        pass
    raise ValueError(f"dtype {text!r} is not a real numeric dtype")


def _open_regular(path):
    """``(binary file, size)`` for ``path``, refused at once unless a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once (instead of waiting
    for a writer); ``fstat`` on the open descriptor then decides, so the
    file checked is the file read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FileError(f"cannot open it ({exc.strerror or exc})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else \
                "a named pipe" if stat.S_ISFIFO(info.st_mode) else "a special file"
            raise FileError(f"it is {kind}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


class Archive:
    """A model file opened for bounded reading.

    Opening checks the zip directory only (no array is read): at most
    :data:`MAX_MEMBERS` entries, unique names ending in ``.npy``, no
    encryption, no compression (``numpynn.save`` writes none, so no entry
    can expand), and entry sizes that fit in the file, overlapping entries
    included. :meth:`read` then reads one array, never more bytes than its
    entry declares. Problems are :class:`FileError`. Use as a context
    manager.
    """

    def __init__(self, path):
        self._file, self.file_size = _open_regular(path)
        try:
            if self._file.read(6) == b"\x93NUMPY":
                raise FileError("a single array, not an .npz archive")
            self._file.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._file)
                infos = self._zip.infolist()
            except Exception as exc:     # BadZipFile, OSError, UnicodeDecodeError, ...
                raise FileError(f"not a zip archive ({type(exc).__name__}: {exc})") from exc
            #: ``{array name: declared entry size}``
            self.sizes = self._check_directory(infos)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._zip.close()
        self._file.close()

    def _check_directory(self, infos):
        if len(infos) > MAX_MEMBERS:
            raise FileError(f"{len(infos)} entries; a model file has at most {MAX_MEMBERS}")
        sizes, total = {}, 0
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise FileError(f"entry {name!r} is not an .npy array")
            if name[:-4] in sizes:
                raise FileError(f"entry {name!r} appears twice")
            if info.flag_bits & 0x1:
                raise FileError(f"entry {name!r} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED:
                raise FileError(f"entry {name!r} is compressed (method {info.compress_type}); "
                                "numpynn model files store arrays uncompressed")
            if info.file_size != info.compress_size or \
                    info.header_offset + info.compress_size > self.file_size:
                raise FileError(f"entry {name!r} declares {info.file_size} bytes, more than "
                                "the file holds")
            total += info.compress_size
            sizes[name[:-4]] = info.file_size
        if total > self.file_size:
            raise FileError(f"entries declare {total} bytes in a file of {self.file_size}")
        return sizes

    def read(self, name, dtype, shape):
        """The array stored as ``name``, which must have ``dtype`` and ``shape``.

        Refused before reading its data when the entry's declared size
        cannot hold exactly such an array (a header plus the data); the
        data are copied straight into a new writable array, :data:`CHUNK`
        bytes at a time.
        """
        shape = tuple(shape)
        nbytes = dtype.itemsize * int(np.prod(shape, dtype=object))
        size = self.sizes.get(name)
        if size is None:
            raise FileError(f"the array {name!r} is missing.")
        if not nbytes < size <= nbytes + MAX_NPY_HEADER + 12:
            raise FileError(f"the entry of array {name!r} declares {size} bytes, but "
                            f"{dtype} of shape {shape} needs {nbytes} plus a header")
        return self._read(name, lambda got: got == (dtype, shape), size)

    def read_vector(self, name, dtype, max_items):
        """The 1-d array ``name`` of ``dtype`` and at most ``max_items`` items."""
        if name not in self.sizes:
            raise FileError(f"the array {name!r} is missing.")
        if self.sizes[name] > max_items * dtype.itemsize + MAX_NPY_HEADER + 12:
            raise FileError(f"the array {name!r} is larger than {max_items} items")
        return self._read(name, lambda got: got[0] == dtype and len(got[1]) == 1
                          and got[1][0] <= max_items, self.sizes[name])

    def header(self, name):
        """``(dtype, shape)`` from the ``.npy`` header of ``name``, reading only the header."""
        try:
            with self._zip.open(name + ".npy") as member:
                return _read_npy_header(member, name)[:2]
        except FileError:
            raise
        except Exception as exc:
            raise FileError(f"cannot read the array {name!r} ({type(exc).__name__}: "
                            f"{exc})") from exc

    def _read(self, name, accept, size):
        try:
            with self._zip.open(name + ".npy") as member:
                if size <= SMALL:             # whole, so the CRC is checked before parsing
                    member = io.BytesIO(_read_into(member, memoryview(bytearray(size)), name))
                dtype, shape, header_size = _read_npy_header(member, name)
                if not accept((dtype, shape)):
                    raise FileError(f"the array {name!r} holds {dtype} of shape {shape}, "
                                    "not what the metadata declare")
                out = np.empty(shape, dtype)
                if header_size + out.nbytes != size:
                    raise FileError(f"the entry of array {name!r} has {size} bytes, not "
                                    f"the {header_size + out.nbytes} of its header and data")
                _read_into(member, memoryview(out.reshape(-1).view(np.uint8)), name)
        except FileError:
            raise
        except Exception as exc:      # BadZipFile (bad CRC), EOFError, numpy's header errors
            raise FileError(f"cannot read the array {name!r} ({type(exc).__name__}: "
                            f"{exc})") from exc
        return out


def _read_npy_header(member, name):
    """``(dtype, shape, header size)`` from an ``.npy`` header of version 1 or 2.

    The header's length is read and bounded (:data:`MAX_NPY_HEADER`) before
    the header itself; NumPy then parses it (a literal, never code).
    """
    prefix = member.read(8)
    if prefix[:6] != b"\x93NUMPY" or prefix[6:] not in (b"\x01\x00", b"\x02\x00"):
        raise FileError(f"the array {name!r} has no .npy header of version 1 or 2")
    width = 2 if prefix[6] == 1 else 4
    length_bytes = member.read(width)
    length = int.from_bytes(length_bytes, "little")
    if len(length_bytes) != width or length > MAX_NPY_HEADER:
        raise FileError(f"the .npy header of {name!r} is longer than {MAX_NPY_HEADER} bytes")
    header = prefix + length_bytes + member.read(length)
    fast = _HEADER.fullmatch(header, 8 + width)
    if fast:
        dtype = check_dtype(fast[1].decode())
        shape = tuple(int(n) for n in fast[2].split(b",") if n.strip())
        return dtype, shape, len(header)
    fp = io.BytesIO(header)
    version = np.lib.format.read_magic(fp)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(fp, max_header_size=MAX_NPY_HEADER)
    if dtype.hasobject:
        raise FileError(f"the array {name!r} holds pickled Python objects")
    if fp.read() or (fortran and len(shape) > 1) or len(shape) > MAX_NDIM:
        raise FileError(f"the .npy header of {name!r} is not one numpynn.save writes")
    return dtype, shape, len(header)


def _read_into(member, view, name):
    """Fill ``view`` from ``member``, :data:`CHUNK` bytes at a time, expect its end; ``view``."""
    done = 0
    while done < len(view):
        chunk = member.read(min(CHUNK, len(view) - done))
        if not chunk:
            raise FileError(f"the array {name!r} is truncated")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    if member.read(1):                            # at the end zipfile checks the CRC
        raise FileError(f"the array {name!r} has trailing bytes")
    return view
