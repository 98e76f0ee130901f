"""Every process that runs a flow returns the memory polars frees at once (``ar_sync.process_memory``).

polars' allocator reads its setting once, when polars is first imported: each check runs in a fresh
interpreter and looks at the environment at that moment, loading the flows as a worker does (by their
prefect.yaml entrypoint) and as the CLI does.
"""

from __future__ import annotations

from ar_sync.process_memory import JEMALLOC_CONF_VARIABLE, PROMPT_RETURN, users_setting

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINTS = sorted(
    {
        d["entrypoint"]
        for name in ("prefect.yaml", "prefect.kubernetes.yaml")
        for d in yaml.safe_load((ROOT / name).read_text())["deployments"]
    }
)

# Records the allocator setting at the moment polars is first imported, then runs the given code.
_WATCH = """
import json, os, sys
seen = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "polars" and "at_polars_import" not in seen:
            seen["at_polars_import"] = os.environ.get(%(variable)r)
        return None
sys.meta_path.insert(0, Watch())
%(code)s
import polars
print(json.dumps(seen))
"""


def _first_polars_import(code: str, env: dict[str, str] | None = None) -> dict[str, str | None]:
    source = _WATCH % {"variable": JEMALLOC_CONF_VARIABLE, "code": code}
    clean = {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF_VARIABLE}
    out = subprocess.run(
        [sys.executable, "-c", source],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_every_entrypoint_imports_it_first(entrypoint: str) -> None:
    # A worker executes the entrypoint's file, not the flows package: its first import must be this.
    tree = ast.parse((ROOT / entrypoint.split(":")[0]).read_text())
    first = next(
        node
        for node in tree.body
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    )
    assert isinstance(first, ast.Import)
    assert [alias.name for alias in first.names] == ["ar_sync.process_memory"]


def test_a_deployment_run_sets_it_before_polars_loads() -> None:
    # As a process worker loads it: the file, by its prefect.yaml entrypoint.
    entrypoint = "flows/dispatch_invoices.py:dispatch_invoices"
    code = f"from prefect.flows import load_flow_from_entrypoint\nload_flow_from_entrypoint({entrypoint!r})"
    assert _first_polars_import(code) == {"at_polars_import": PROMPT_RETURN}


def test_the_cli_sets_it_before_polars_loads_and_without_loading_prefect() -> None:
    code = "from cli.main import app\nimport cli.collections_view"
    assert _first_polars_import(code) == {"at_polars_import": PROMPT_RETURN}
    # Every command starts with this import: it must stay cheap (Prefect alone takes ~0.7 s to load).
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, cli.main; print('prefect' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_the_users_own_setting_is_kept() -> None:
    code = "import flows.nightly_ar_cycle"
    own = {JEMALLOC_CONF_VARIABLE: "narenas:2"}
    assert _first_polars_import(code, own) == {"at_polars_import": "narenas:2"}


_FREE_A_FRAME = """
import flows  # noqa: F401
import polars as pl

def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

before = rss_mib()
frame = pl.DataFrame({"key": pl.int_range(0, 8_000_000, eager=True).cast(pl.String) + "-invoice-number"})
held = rss_mib()
del frame
print(before, held, rss_mib())
"""


def test_a_freed_frame_leaves_the_process_at_once() -> None:
    clean = {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF_VARIABLE}
    out = subprocess.run(
        [sys.executable, "-c", _FREE_A_FRAME], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    before, held, after = map(int, out.stdout.split())
    assert held - before > 200, "the frame should be a few hundred MiB"
    # Freed pages are returned when freed, not seconds later: nearly all of the frame is gone.
    assert after - before < (held - before) / 4, (before, held, after)


@pytest.mark.parametrize(
    ("inherited", "expected"),
    [
        # A parent that imported polars (the bench's driver, a notebook, a worker) leaves polars'
        # defaults in the variable: they are not the user's setting.
        ("dirty_decay_ms:500,muzzy_decay_ms:1000", None),
        ("dirty_decay_ms:500,muzzy_decay_ms:1000,thp:always,metadata_thp:always", None),
        # What the user had set there before the parent imported polars is theirs.
        ("dirty_decay_ms:500,muzzy_decay_ms:1000,narenas:2", "narenas:2"),
        ("narenas:2,dirty_decay_ms:500", "narenas:2,dirty_decay_ms:500"),
        ("", ""),
        (None, None),
    ],
    ids=[
        "polars-defaults",
        "polars-defaults-with-thp",
        "users-own-after-them",
        "users-own",
        "empty",
        "unset",
    ],
)
def test_what_a_parent_left_in_the_variable_is_the_users_only_past_polars_defaults(
    inherited: str | None, expected: str | None
) -> None:
    assert users_setting(inherited) == expected


def test_a_parent_s_polars_import_and_its_child_as_they_happen() -> None:
    # The parent imports polars, which writes its defaults into the variable; the child it starts
    # inherits them and must still get this module's setting.
    child = _WATCH % {"variable": JEMALLOC_CONF_VARIABLE, "code": "import flows.nightly_ar_cycle"}
    parent = (
        "import polars, subprocess, sys\n"
        f"child = {child!r}\n"
        "run = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, check=True)\n"
        "print(run.stdout)"
    )
    clean = {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF_VARIABLE}
    out = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"at_polars_import": PROMPT_RETURN}
