"""Vendor the NHS.UK frontend's stylesheet into the site templates.

The package is pinned in `tests/browser/package.json` (installed by `.ci/run` with
`npm ci`); its compiled `nhsuk-frontend.min.css` is copied to
`templates/site/nhsuk-frontend.min.css`, made fit for pages read from disk with no
request outside the site:

- its `@font-face` rules are dropped (they fetch Frutiger from assets.nhs.uk; the
  stylesheet's own fallback, Arial, is used);
- `url(/assets/...)` icons, which the package does not ship, become `none` (they serve
  components the site does not use: sortable tables, selects, the search cross).

Run `python scripts/vendor_nhsuk_frontend.py` after changing the pinned version;
`--check` exits 1 when the committed copy is not what the pinned package gives (a test
runs it).
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tests" / "browser" / "node_modules" / "nhsuk-frontend"
SOURCE = PACKAGE / "dist" / "nhsuk" / "nhsuk-frontend.min.css"
TARGET = REPO / "templates" / "site" / "nhsuk-frontend.min.css"


def vendored_css(source: str, version: str) -> str:
    text = re.sub(r"@font-face\{[^}]*\}", "", source)
    text = re.sub(r"url\(/assets/[^)]*\)", "none", text)
    text = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", text)
    if re.search(r"url\((?!data:)", text) or "@import" in text:
        raise SystemExit("nhsuk-frontend's CSS still fetches something: update this script")
    header = f"/* nhsuk-frontend {version} (MIT), vendored by scripts/vendor_nhsuk_frontend.py */\n"
    return header + text.strip() + "\n"


def main() -> int:
    if not SOURCE.is_file():
        print(f"{SOURCE} is missing: run npm ci --prefix tests/browser", file=sys.stderr)
        return 2
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    wanted = vendored_css(SOURCE.read_text(encoding="utf-8"), version)
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != wanted:
            print(f"{TARGET} is not nhsuk-frontend {version}: re-run this script", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(wanted, encoding="utf-8")
    print(f"wrote {TARGET} (nhsuk-frontend {version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
