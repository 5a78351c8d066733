"""The one atomic-write helper: a reader sees the old file or the new one, never half."""
from __future__ import annotations

import os
import stat

import pytest

from rca_app.core.fileio import atomic_output, default_file_mode, write_json_atomic, write_text_atomic


def test_success_replaces_the_target_with_plain_file_permissions(tmp_path):
    target = tmp_path / "sub" / "report.pdf"
    with atomic_output(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".report.pdf.")
        tmp.write_bytes(b"%PDF new")
        assert not target.exists()          # nothing visible before the block ends
    assert target.read_bytes() == b"%PDF new"
    assert stat.S_IMODE(os.stat(target).st_mode) == default_file_mode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.pdf"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"), atomic_output(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full (simulated)")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_text_and_json_writers_use_it(tmp_path):
    import numpy as np

    p = write_text_atomic(tmp_path / "a.csv", "x;y\r\n1;2\r\n", newline="")
    assert p.read_bytes() == b"x;y\r\n1;2\r\n"
    q = write_json_atomic(tmp_path / "r.json", {"n": np.int64(3), "v": np.array([0.5]), "s": (1, 2)})
    assert q.read_text(encoding="utf-8") == '{\n  "n": 3,\n  "v": [\n    0.5\n  ],\n  "s": [\n    1,\n    2\n  ]\n}\n'
