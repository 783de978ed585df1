"""The bundled sample flows, installed and deployed into a workspace on the embedded first start; the
workspace's egress policy allows the sandbox systems they call (runtime/egress.py)."""
from __future__ import annotations

import json
import pathlib

from designer import drafts
from designer.errors import ApiError
from flows.problem import errors
from runtime import deployments, egress

SAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "flows" / "samples"
SAMPLES = ("order-sync.json",)  # listed, not scanned


SANDBOX_DEFAULT = "http://127.0.0.1:5001"


def install(rt, workspace: str = "default", sandbox_url: str = SANDBOX_DEFAULT) -> list[str]:
    """Create and deploy each sample flow that the workspace does not have yet; return their ids.
    Param defaults that point at the sandbox systems are pointed at where they run now."""
    egress.allow_origin(rt, workspace, sandbox_url)
    installed = []
    for name in SAMPLES:
        text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
        doc = json.loads(text.replace(SANDBOX_DEFAULT, sandbox_url.rstrip("/")))
        try:
            doc = drafts.create(rt, workspace, doc).document
        except ApiError as err:
            if err.code == "conflict":
                continue  # present already (maybe edited by the user): leave it alone
            raise
        if not errors(drafts.check(doc)):
            deployments.deploy(rt, workspace, doc["id"], doc)
        installed.append(doc["id"])
    return installed
