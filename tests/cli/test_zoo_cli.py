from __future__ import annotations

import subprocess
import sys

from dsf_search.cli import main
from dsf_search.core import zoo


def test_zoo_table_lists_every_preset(capsys):
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert name in out
    assert "state_bytes@2048" in out and "params@d128" in out


def test_zoo_shows_one_preset_with_its_rule(capsys):
    assert main(["zoo", "deltanet_signed"]) == 0
    out = capsys.readouterr().out
    assert "beta_t = 2 sigmoid" in out and '"eigenvalues": "signed"' in out


def test_unknown_preset_exits_2_with_suggestion():
    proc = subprocess.run([sys.executable, "-m", "dsf_search", "zoo", "mamba5"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "did you mean" in proc.stderr and "mamba2" in proc.stderr
