"""numpynn.save / numpynn.load under attack (issue 12, items 2, 3, 13, 16, 18).

Each attack is built here, in a temporary folder: threads saving to one
path, symlinks, FIFOs and folders planted where files are expected, zip
bombs, lying zip directories, every single-bit flip of a small model, and
foreign or malformed files. Every test is bounded in time and memory (a
hung load fails after a timeout instead of hanging the suite).
"""

import io
import json
import os
import pickle
import stat
import struct
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numpynn import LinearRegressor, TwoLayerNet, load, save

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def small():
    """The smallest model: least squares on one feature (a file of about 2.4 KB)."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LinearRegressor(solver="lstsq").fit(X, np.array([1.0, 3.0, 5.0, 7.5]))


def _same_value(value, other, key):
    """Bit-identical values: arrays by dtype and bytes, tuples item by item, others by ==."""
    if isinstance(value, np.ndarray | np.generic):
        assert type(value) is type(other), key
        assert value.dtype == other.dtype and value.tobytes() == other.tobytes(), key
    elif isinstance(value, tuple):
        assert type(value) is type(other) and len(value) == len(other), key
        for i, (a, b) in enumerate(zip(value, other, strict=True)):
            _same_value(a, b, f"{key}[{i}]")
    else:
        assert type(value) is type(other) and value == other, key


def _same(a, b):
    """Bit-identical fitted state (every attribute by :func:`_same_value`)."""
    assert type(a) is type(b) and a.get_params() == b.get_params()
    assert vars(a).keys() == vars(b).keys()
    for key, value in vars(a).items():
        _same_value(value, vars(b)[key], key)


# -- item 2: concurrent saves --------------------------------------------------
def test_concurrent_saves_always_leave_one_whole_model(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 30)), rng.normal(size=40)
    models = [TwoLayerNet(hidden_units=64, max_iter=2, tol=None, random_state=s).fit(X, y)
              for s in range(3)]
    path = tmp_path / "m.npz"
    save(models[0], path)
    errors, stop = [], threading.Event()

    def saver(model):
        try:
            for _ in range(15):
                save(model, path)
        except BaseException as exc:          # noqa: BLE001 - reported below
            errors.append(exc)

    def reader():
        while not stop.is_set():
            try:
                back = load(path)
                assert any(back.coefs_[0].tobytes() == m.coefs_[0].tobytes() for m in models)
            except BaseException as exc:      # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=saver, args=(m,)) for m in models + models[:1]]
    watcher = threading.Thread(target=reader)
    for t in threads + [watcher]:
        t.start()
    for t in threads:
        t.join(timeout=60)
    stop.set()
    watcher.join(timeout=60)
    assert not errors, errors[:3]
    back = load(path)
    assert any(back.coefs_[0].tobytes() == m.coefs_[0].tobytes() for m in models)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]      # no temporary left


# -- item 3: planted names, permissions ------------------------------------------
def _plant(kind, where, target):
    if kind == "symlink":
        os.symlink(target, where)
    elif kind == "folder":
        os.mkdir(where)
    else:
        os.mkfifo(where)


@pytest.mark.parametrize("kind", ["symlink", "folder", "fifo"])
def test_save_never_follows_or_reuses_a_planted_temporary_name(kind, small, tmp_path,
                                                               monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    path = tmp_path / "m.npz"
    planted = [f"{path}.{os.getpid()}.tmp"]              # the old predictable name
    tokens = iter(["aaaa", "aaaa", "bbbb"])               # the next two random names collide
    monkeypatch.setattr("numpynn._npz._token", lambda: next(tokens), raising=False)
    planted.append(str(tmp_path / ".m.npz.aaaa.tmp"))
    for where in planted:
        _plant(kind, where, victim)
    worker = threading.Thread(target=save, args=(small, path), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():                     # blocked opening a planted FIFO: release it
        for where in planted:
            os.close(os.open(where, os.O_RDONLY | os.O_NONBLOCK))
        pytest.fail("save opened a planted temporary name and blocked")
    assert victim.read_bytes() == b"precious"
    assert stat.S_ISREG(os.lstat(path).st_mode)
    _same(load(path), small)
    for where in planted:
        assert os.path.lexists(where)                    # left alone


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_overwriting_keeps_the_permission_bits(mode, small, tmp_path):
    path = tmp_path / "m.npz"
    save(small, path)
    os.chmod(path, mode)
    save(small, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_bytes_path_is_written_exactly(small, tmp_path):
    save(small, os.fsencode(tmp_path / "m.npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    _same(load(os.fsencode(tmp_path / "m.npz")), small)


def test_a_new_file_gets_the_umask_mode(small, tmp_path):
    umask = os.umask(0o027)
    try:
        save(small, tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o666 & ~0o027


# -- item 16: anything but a regular file is refused at once ----------------------
def _load_with_timeout(path, seconds=5.0):
    """``load(path)``'s exception (or result) from a thread, failing if it hangs."""
    out = []
    worker = threading.Thread(target=lambda: out.append(_outcome(path)), daemon=True)
    worker.start()
    worker.join(seconds)
    return out[0] if out else None


def _outcome(path):
    try:
        return load(path)
    except BaseException as exc:              # noqa: BLE001 - inspected by the test
        return exc


def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    try:
        start = time.perf_counter()
        outcome = _load_with_timeout(fifo)
        assert outcome is not None, "load blocked on a named pipe"
        assert isinstance(outcome, ValueError) and "named pipe" in str(outcome)
        assert time.perf_counter() - start < 2.0
    finally:                                  # release a reader that did block
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkdir(p), "is a directory"),
    (lambda p: os.symlink("/dev/null", p), "special file"),
    (lambda p: os.symlink(p, p), "cannot open it"),          # a symlink loop
])
def test_non_regular_files_are_refused(make, message, tmp_path):
    path = tmp_path / "m.npz"
    make(path)
    with pytest.raises(ValueError, match=message):
        load(path)


# -- item 13: zip bombs and lying directories -------------------------------------
def _members(path):
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.fixture(scope="module")
def bomb_parts():
    """The .npy header of 128 MiB of float64 zeros, and that size."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (16 << 20,)})
    return header.getvalue(), 128 << 20


def _bomb_zip(path, members, bomb_names, bomb_parts):
    header, size = bomb_parts
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            if name not in bomb_names:
                z.writestr(name, data)
        for name in bomb_names:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = 1
            with z.open(info, "w", force_zip64=True) as f:
                f.write(header)
                for _ in range(size >> 20):
                    f.write(zeros)


@pytest.mark.parametrize("bomb", ["attributes/coef_.npy", "__meta__.npy", "extra.npy"],
                         ids=["expected-name", "metadata", "extra-entry"])
def test_zip_bomb_is_refused_before_reading(bomb, small, bomb_parts, tmp_path):
    good = tmp_path / "good.npz"
    save(small, good)
    path = tmp_path / "bomb.npz"
    _bomb_zip(path, _members(good), [bomb], bomb_parts)
    assert path.stat().st_size < 1 << 20                  # a small file...
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = _outcome(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"load used {peak >> 20} MiB"
    assert time.perf_counter() - start < 2.0
    assert isinstance(outcome, ValueError) and "is compressed" in str(outcome)  # unread


def test_oversized_stored_entry_under_an_expected_name_is_refused_unread(small, tmp_path):
    """No compression needed: 64 MiB really stored as coef_, which the metadata say is (1,)."""
    good = tmp_path / "good.npz"
    save(small, good)
    members = _members(good)
    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            if name != "attributes/coef_.npy":
                z.writestr(name, data)
        with z.open("attributes/coef_.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, np.zeros(8 << 20))
    tracemalloc.start()
    try:
        outcome = _outcome(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"load used {peak >> 20} MiB"
    assert isinstance(outcome, ValueError)
    assert "declares 67108992 bytes, but float64 of shape (1,) needs 8" in str(outcome)


def _patch_directory(raw, member, **fields):
    """Change fields of ``member``'s central-directory record (sizes, method)."""
    offsets = {"method": (10, "<H"), "compressed": (20, "<I"), "uncompressed": (24, "<I")}
    out = bytearray(raw)
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + name_len] == member.encode():
            for key, value in fields.items():
                off, fmt = offsets[key]
                struct.pack_into(fmt, out, at + off, value)
            return bytes(out)
        at = raw.find(b"PK\x01\x02", at + 46)
    raise AssertionError(f"{member} not found")


@pytest.mark.parametrize("fields, message", [
    ({"uncompressed": 2**31}, "more than the file holds"),
    ({"compressed": 2**31, "uncompressed": 2**31}, "more than the file holds"),
    ({"compressed": 60, "uncompressed": 60}, "declares 60 bytes"),
    ({"method": 99}, r"is compressed \(method 99\)"),
    ({"method": 8}, r"is compressed \(method 8\)"),
], ids=["size", "both-sizes", "too-small", "unknown-method", "deflate"])
def test_lying_zip_directory_is_refused(fields, message, small, tmp_path):
    path = tmp_path / "m.npz"
    save(small, path)
    path.write_bytes(_patch_directory(path.read_bytes(), "attributes/_lstsq_state/0.npy",
                                      **fields))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            load(path)
        assert tracemalloc.get_traced_memory()[1] < 8 << 20
    finally:
        tracemalloc.stop()


# -- item 18: every damaged or foreign file is a ValueError -----------------------
def test_every_single_bit_flip_loads_the_same_model_or_raises_value_error(small, tmp_path):
    path = tmp_path / "m.npz"
    save(small, path)
    raw = path.read_bytes()
    X = np.linspace(-2.0, 5.0, 8).reshape(-1, 1)
    assert len(raw) < 6000                   # small enough to flip every bit in seconds
    unexpected, identical = [], 0
    fd = os.open(path, os.O_RDWR)
    try:
        for bit in range(8 * len(raw)):
            pos = bit // 8
            os.pwrite(fd, bytes([raw[pos] ^ (1 << bit % 8)]), pos)
            try:
                back = load(path)
                _same(back, small)
                assert back.predict(X).tobytes() == small.predict(X).tobytes()
                identical += 1
            except ValueError:
                pass
            except BaseException as exc:      # noqa: BLE001 - collected, reported below
                unexpected.append((bit, type(exc).__name__, str(exc)[:80]))
            os.pwrite(fd, raw[pos:pos + 1], pos)
    finally:
        os.close(fd)
    assert not unexpected, unexpected[:5]
    assert 0 < identical < 8 * len(raw) // 5  # only bits nobody reads (zip timestamps, ...)


def _npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _text_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize("content, message", [
    (b"", "not a zip archive"),
    (b"PK\x03\x04" + bytes(100), "not a zip archive"),
    (np.random.default_rng(0).bytes(5000), "not a zip archive"),
    (pickle.dumps({"a": 1}), "not a zip archive"),
    (_text_zip(), r"'readme.txt' is not an .npy array"),
    (_npz_bytes(w=np.zeros(3)), "no __meta__ or __checksum__"),
    (_npz_bytes(__meta__=np.array("{}"), __checksum__=np.array("0" * 64)),
     "uses file format 1 .*; this numpynn reads format 2"),
    (_npz_bytes(__meta__=np.zeros((2, 2), np.uint8), __checksum__=np.zeros(64, np.uint8)),
     r"malformed __meta__ or __checksum__ entry \(the array '__meta__' holds uint8 of shape "
     r"\(2, 2\)"),
], ids=["empty", "zip-magic", "random", "pickle", "text-zip", "foreign-npz", "format-1",
        "meta-2d"])
def test_foreign_files_are_refused(content, message, tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load(path)


def _with_meta(path, text):
    """Rewrite ``path`` with ``text`` as its metadata, re-signed (a careful forger)."""
    from numpynn.persistence import _checksum
    with np.load(path) as npz:
        body = {k: npz[k] for k in npz.files if k not in ("__meta__", "__checksum__")}
    digest = _checksum(text, body)
    with open(path, "wb") as f:
        np.savez(f, __meta__=np.frombuffer(text.encode(), np.uint8),
                 __checksum__=np.frombuffer(digest.encode(), np.uint8), **body)


def _meta(path):
    with np.load(path) as npz:
        return json.loads(npz["__meta__"].tobytes())


@pytest.mark.parametrize("forge, message", [
    (lambda m: "[" * 100_000 + "]" * 100_000, "nest too deeply"),
    (lambda m: json.dumps({**m, "params": {"dict": {"alpha": {"float": "-1.0"}}}}),
     "'alpha' parameter of LinearRegressor"),
    (lambda m: json.dumps(m).replace('"n_iter_": 1', '"n_iter_": ' + "9" * 5000),
     "JSON integer of 5000 digits"),
    (lambda m: json.dumps(m).replace('"n_iter_": 1', '"n_iter_": 1e999'), "bare JSON number"),
    (lambda m: json.dumps(m).replace('"n_iter_": 1', '"n_iter_": NaN'), "JSON constant NaN"),
    (lambda m: json.dumps(_nest(m, 200)), "nested more than"),
    (lambda m: json.dumps([m]), "not a JSON object"),
    (lambda m: "\udcff", "not valid"),
], ids=["deep-json", "bad-param", "huge-int", "huge-float", "nan", "deep-values",
        "list", "bad-utf8"])
def test_malformed_metadata_is_a_value_error(forge, message, small, tmp_path):
    path = tmp_path / "m.npz"
    save(small, path)
    text = forge(_meta(path))
    try:
        _with_meta(path, text)
    except UnicodeEncodeError:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays["__meta__"] = np.frombuffer(b"\xff\xfe{", np.uint8)
        np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        load(path)


def _nest(meta, depth):
    node = {"float": "1.0"}
    for _ in range(depth):
        node = {"list": [node]}
    meta["attributes"]["dict"]["deep_"] = node
    return meta


def test_oversized_npy_header_is_refused_unread(small, tmp_path):
    good = tmp_path / "good.npz"
    save(small, good)
    members = _members(good)
    coef = members["attributes/coef_.npy"]
    members["attributes/coef_.npy"] = coef[:8] + struct.pack("<H", 60000) + coef[10:]
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match="longer than 4096 bytes"):
        load(path)


def test_non_path_argument_is_a_type_error():
    with pytest.raises(TypeError):
        load(42.0)


def test_loaded_arrays_are_writable_and_independent(small, tmp_path):
    save(small, tmp_path / "m.npz")
    a, b = load(tmp_path / "m.npz"), load(tmp_path / "m.npz")
    a.coef_[0] += 1.0
    assert_array_equal(b.coef_, small.coef_)
    assert a._lstsq_state[0].flags.writeable
