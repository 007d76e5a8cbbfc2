"""The outside attacker of `tests/attacker/` against any publication folder.

The test suite attacks one strict synthetic month (the demo year takes too long for a
test under `strict`); this runs the same attacker, which shares no code with the
package's disclosure control, on a folder built by hand, e.g. the demo under strict:

    did-publish synth --out /tmp/demo-in
    did-publish build /tmp/demo-in --submissions /tmp/demo-in/submissions.csv \\
        --policy strict --out /tmp/strict-demo
    python benchmarks/attack_folder.py /tmp/strict-demo/did-demo-2024-25-2025-03

It prints what the attacker proved and exits 1 when a suppressed count of a strict
folder is exact or narrowed below its protection interval.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.attacker.folder import attack  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python benchmarks/attack_folder.py PUBLICATION_FOLDER", file=sys.stderr)
        return 2
    started = time.perf_counter()
    found = attack(Path(argv[0]), exactness=False)
    print(found.summary())
    print(f"attack took {time.perf_counter() - started:.1f} s")
    narrowed = found.narrowed
    if narrowed.height:
        print(narrowed.head(20))
    return 1 if found.policy == "strict" and narrowed.height else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
