"""Atomic writes: the target holds the old file or the whole new one, and no temporary is left."""

import pytest

from core.io.files import atomic_output, atomic_write_bytes


def test_atomic_write_bytes_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_atomic_output_renames_on_success(tmp_path):
    target = tmp_path / "video.gif"
    target.write_bytes(b"old")
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".gif" and tmp != target
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # nothing visible until the block ends
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["video.gif"]


def test_atomic_output_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "map.tif"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_output(target) as tmp:
        tmp.write_bytes(b"half a fi")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.tif"]


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_are_made_with_the_umask_not_0600(tmp_path, umask, expected):
    # issue 26: every output was created mode 0600 (mkstemp's), whatever the user's umask
    import os
    import stat

    from core.io.files import atomic_output, atomic_write_bytes

    previous = os.umask(umask)
    try:
        written = atomic_write_bytes(tmp_path / "a.png", b"png")
        with atomic_output(tmp_path / "b.gif") as tmp:
            tmp.write_bytes(b"gif")
    finally:
        os.umask(previous)
    for path in (written, tmp_path / "b.gif"):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
