"""`make breaking` (tools/buf_breaking.py) with the real buf: an accepted break passes,
any other break of the same rule in the same file still fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "buf_breaking.py"
BUF = Path(sys.executable).with_name("buf")
BUF_YAML = "version: v2\nmodules:\n  - path: api\nbreaking:\n  use:\n    - FILE\n"
PROTO = 'syntax = "proto3";\npackage shop.v1;\nmessage Order {\n%s}\n'
BOTH = "  string order_id = 1;\n  string note = 2;\n"
DELETED_ORDER_ID = 'FIELD_NO_DELETE api/shop/v1/order.proto Previously present field "1" with name "order_id" on message "Order" was deleted.'  # noqa: E501
DELETED_NOTE = 'FIELD_NO_DELETE api/shop/v1/order.proto Previously present field "2" with name "note" on message "Order" was deleted.'  # noqa: E501


def module(root: Path, fields: str) -> Path:
    (root / "api" / "shop" / "v1").mkdir(parents=True)
    (root / "buf.yaml").write_text(BUF_YAML)
    (root / "api" / "shop" / "v1" / "order.proto").write_text(PROTO % fields)
    return root


def check(tmp_path: Path, accepted: str) -> subprocess.CompletedProcess[str]:
    against = module(tmp_path / "main", BOTH)
    changed = module(tmp_path / "branch", "  reserved 1, 2;\n")
    (tmp_path / "accepted.txt").write_text(accepted)
    # From inside the changed module, as `make breaking` runs it: buf names files from there.
    return subprocess.run(
        [sys.executable, str(TOOL), str(BUF), str(against), "--accepted", "../accepted.txt"],
        capture_output=True,
        text=True,
        check=False,
        cwd=changed,
    )


def test_breaking__unlisted_break_fails_beside_an_accepted_one(tmp_path: Path) -> None:
    done = check(tmp_path, f"# 2026-12-01: order ids moved elsewhere\n{DELETED_ORDER_ID}\n")
    assert done.returncode == 1, done
    assert 'with name "note" on message "Order" was deleted. (FIELD_NO_DELETE)' in done.stdout
    assert "order_id" not in done.stdout
    assert "1 breaking change(s)" in done.stderr


def test_breaking__passes_when_every_finding_is_accepted(tmp_path: Path) -> None:
    done = check(tmp_path, f"{DELETED_ORDER_ID}\n\n{DELETED_NOTE}\n")
    assert done.returncode == 0, done
    assert "2 finding(s), all accepted" in done.stdout


def test_breaking__a_record_must_match_the_whole_finding(tmp_path: Path) -> None:
    # A record for another message (or file) does not cover a finding that merely looks alike.
    elsewhere = DELETED_ORDER_ID.replace('"Order"', '"Invoice"')
    done = check(tmp_path, f"{elsewhere}\n{DELETED_NOTE}\n")
    assert done.returncode == 1, done
    assert 'name "order_id" on message "Order" was deleted.' in done.stdout
