"""Binder's JupyterLab frees memory: postBuild installs a kernel culler and the setting that
shuts a notebook's kernel down when its tab closes (a Binder session has 2 GB)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("binder-prefix")
    subprocess.run(["bash", str(ROOT / "postBuild")], check=True,
                   env={**os.environ, "NB_PYTHON_PREFIX": str(prefix)})
    return prefix


def test_closing_a_notebook_tab_shuts_its_kernel_down(prefix):
    overrides = json.loads((prefix / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"]["kernelShutdown"] is True


def test_the_setting_is_one_jupyterlab_knows():
    schema = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/notebook-extension/tracker.json"
    if not schema.exists():
        pytest.skip("JupyterLab's schemas are not installed here")
    assert "kernelShutdown" in json.loads(schema.read_text())["properties"]


def test_jupyter_server_loads_the_idle_kernel_culler(prefix):
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(prefix / "etc/jupyter")}
    out = subprocess.run([sys.executable, "-m", "jupyter_server", "--show-config"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "MappingKernelManager" in out.stdout
    assert "cull_idle_timeout" in out.stdout and "900" in out.stdout
