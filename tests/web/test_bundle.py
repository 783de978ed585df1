"""The committed canvas bundle (web/static/app) must be built from the current UI sources.

`npm --prefix web run build` writes a sha256 of the sources to web/static/app/source-hash.txt (web/scripts/
source-hash.mjs); this test recomputes it the same way, so nobody needs Node.js to run or test Crossdock.
The hash proves freshness, not origin: the build writes it, so a bundle edited by hand after a build passes
here. CI proves origin: `.ci/run` rebuilds the bundle (`npm ci && npm run build` in web/) and fails when the
result differs from the committed web/static/app.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
BUILD = WEB / "static" / "app"
TOP_LEVEL = re.compile(r"^(index\.html|package\.json|package-lock\.json|vite\.config\.[a-z]+|tsconfig.*\.json)$")


def source_files() -> list[str]:
    files = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    files += [p for p in WEB.iterdir() if p.is_file() and TOP_LEVEL.match(p.name)]
    return sorted(p.relative_to(WEB).as_posix() for p in files)


def source_hash() -> str:
    h = hashlib.sha256()
    for rel in source_files():
        h.update(rel.encode() + b"\0")
        h.update((WEB / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def test_committed_bundle_was_built_from_the_current_sources():
    recorded = (BUILD / "source-hash.txt").read_text().strip()
    assert recorded == source_hash(), (
        "web/static/app is stale: the UI sources changed since the bundle was built. "
        "Run `npm --prefix web run build` and commit web/static/app."
    )


def test_the_hash_covers_the_sources_and_the_lock():
    files = source_files()
    assert "src/main.tsx" in files and "package-lock.json" in files and "index.html" in files
    assert not any(f.startswith(("node_modules/", "static/")) for f in files)


def test_index_references_only_assets_that_exist():
    index = (BUILD / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="/static/app/([^"]+)"', index)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert (BUILD / asset).is_file(), f"index.html names {asset}, which is not in web/static/app"
    referenced = {f"{a}" for a in assets} | _lazy_chunks()
    stale = {f"assets/{p.name}" for p in (BUILD / "assets").iterdir()} - referenced
    assert not stale, f"web/static/app/assets holds files no build output names (an older build?): {sorted(stale)}"


def _lazy_chunks() -> set[str]:
    """Chunks that built scripts load on demand (code splitting)."""
    names = set()
    for js in (BUILD / "assets").glob("*.js"):
        names |= {f"assets/{m}" for m in re.findall(r"([\w.-]+\.(?:js|css))[\"'`]", js.read_text())}
    return names
