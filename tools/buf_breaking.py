"""`buf breaking`, minus the contract breaks made on purpose.

buf can silence a rule only for whole files or directories (`ignore_only` in buf.yaml),
which would also hide every later break of that kind there. So each intentional break
is recorded finding by finding in api/accepted_breaks.txt, as buf reports it (rule,
file, message: the message names the field, its number and its message), under a
comment that says what broke, when and why. Any other finding fails the check.

Line numbers are not part of a record: they move with every edit of the file. A record
cannot hide a later break either, since a deleted field's number and name are reserved
in the same change, so the same finding cannot come back.

Usage: buf_breaking.py BUF AGAINST_DIR [--input DIR] [--accepted FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ACCEPTED = Path("api/accepted_breaks.txt")
# buf's exit status when the check ran and reported findings (1 is a failure to run).
_FINDINGS = 100


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    path: str
    message: str

    @property
    def record(self) -> str:
        """The finding as one line of the accepted list."""
        return f"{self.rule} {self.path} {self.message}"


def parse_accepted(text: str) -> set[str]:
    """The records of an accepted list: one per line; blank lines and # comments skipped."""
    lines = (line.strip() for line in text.splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def run_buf(buf: str, against: Path, input_dir: Path) -> list[tuple[Finding, str]]:
    """Each finding with buf's own located text of it (path:line:column:message)."""
    done = subprocess.run(
        [buf, "breaking", str(input_dir), "--against", str(against), "--error-format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, _FINDINGS):
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    findings = []
    for line in done.stdout.splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        finding = Finding(raw["type"], raw["path"], raw["message"])
        located = f"{raw['path']}:{raw['start_line']}:{raw['start_column']}:{raw['message']}"
        findings.append((finding, f"{located} ({raw['type']})"))
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="buf breaking, minus the accepted breaks")
    parser.add_argument("buf")
    parser.add_argument("against", type=Path)
    parser.add_argument("--input", type=Path, default=Path("."))
    parser.add_argument("--accepted", type=Path, default=ACCEPTED)
    args = parser.parse_args(argv)
    accepted = parse_accepted(args.accepted.read_text())
    findings = run_buf(args.buf, args.against, args.input)
    unexpected = [located for finding, located in findings if finding.record not in accepted]
    for located in unexpected:
        print(located)
    if unexpected:
        print(
            f"buf breaking: {len(unexpected)} breaking change(s). If one is intended, record "
            f"it in {args.accepted} (see its header).",
            file=sys.stderr,
        )
        return 1
    if findings:
        print(f"buf breaking: {len(findings)} finding(s), all accepted in {args.accepted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
