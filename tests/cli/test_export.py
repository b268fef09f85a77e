"""`dsf-search export`: the standalone file runs without dsf-search and reproduces its model.

Each exported model is loaded in a fresh interpreter in which dsf_search cannot be imported
(`python -I`, and the name blocked in sys.modules), fed the same tokens and weights, and its
logits over the whole sequence and decoded token by token are compared with SequenceModel's
(forward, and its own step-by-step decoding with carried states).
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dsf_search.cli import main
from dsf_search.cli.export import load_module
from dsf_search.core.standalone import standalone_source
from dsf_search.core.zoo import ZOO
from dsf_search.core.model import SequenceModel
from dsf_search.evaluate import candidate_spec, load_protocol
from dsf_search.evaluate.candidate import default_protocol_path
from dsf_search.search import run_search
from tests.search.conftest import TINY_PROTOCOL, TINY_SPACE

# exp readout + RoPE + sum normalization; gated Householder with conv, mamba gate, output norm and gate;
# signed Householder; the wirings of Mamba-1 (x_proj, low-rank Delta, gates from the branch), xLSTM's
# mLSTM (block-diagonal q, k, v, gates from q|k|v, layer norm, branch skip) and Griffin (biases, no
# SiLU after the conv, the first token unscaled)
PRESETS = ("softmax_attention", "gated_deltanet", "deltanet_signed", "mamba", "mlstm", "rg_lru")
T = 10

RUNNER = r"""
import sys
sys.modules["dsf_search"] = None  # dsf-search must not be importable here
try:
    import dsf_search  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("dsf_search was importable")
import importlib.util
import torch

folder, weights, tokens_file, out = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("exported", folder + "/model.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert not any(name.startswith("dsf_search") and sys.modules[name] is not None for name in sys.modules)
model = module.Model().eval()
model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
tokens = torch.load(tokens_file, weights_only=True)
with torch.no_grad():
    whole = model(tokens)
    state, steps = None, []
    for t in range(tokens.shape[1]):
        logits, state = model.step(tokens[:, t], state)
        steps.append(logits)
torch.save({"whole": whole, "steps": torch.stack(steps, dim=1)}, out)
"""


def run_exported(folder: Path, weights: Path, tokens: torch.Tensor, tmp: Path) -> dict[str, torch.Tensor]:
    script, tokens_file, out = tmp / "runner.py", tmp / "tokens.pt", tmp / "out.pt"
    script.write_text(RUNNER)
    torch.save(tokens, tokens_file)
    done = subprocess.run([sys.executable, "-I", str(script), str(folder), str(weights), str(tokens_file), str(out)],
                          cwd=tmp, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return torch.load(out, weights_only=True)


def reference(model: SequenceModel, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """dsf-search's logits: forward over the sequence, and its own decoding one token at a time."""
    with torch.no_grad():
        whole = model(tokens)
        states, steps = None, []
        for t in range(tokens.shape[1]):
            logits, states = model(tokens[:, t:t + 1], states, return_states=True)
            steps.append(logits[:, 0])
    return whole, torch.stack(steps, dim=1)


def check(folder: Path, weights: Path, model: SequenceModel, tmp: Path) -> None:
    tokens = torch.randint(0, model.spec.vocab_size, (2, T), generator=torch.Generator().manual_seed(1))
    got = run_exported(folder, weights, tokens, tmp)
    whole, steps = reference(model.eval(), tokens)
    assert whole.abs().max() > 0.1  # a real signal, not all zeros
    torch.testing.assert_close(got["whole"], whole, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got["steps"], steps, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got["steps"], whole, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("preset", PRESETS)
def test_an_exported_preset_runs_without_dsf_search_and_matches(preset, tmp_path, capsys):
    folder = tmp_path / "export"
    assert main(["export", preset, "--out", str(folder)]) == 0
    assert "max |logit difference|" in capsys.readouterr().out
    source = (folder / "model.py").read_text()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports == {"torch", "torch.nn", "torch.nn.functional"}
    config = json.loads((folder / "config.json").read_text())
    assert config["weights"] is None and config["source"]["preset"] == preset
    spec = candidate_spec(preset, load_protocol(default_protocol_path()))
    assert config["hash"] == spec.hash()
    torch.manual_seed(0)
    model = SequenceModel(spec)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)  # trained or not, the same weights must give the same outputs
    check(folder, weights, model, tmp_path)


def test_an_exported_study_trial_carries_its_trained_weights(tmp_path, monkeypatch, capsys):
    from dsf_search.results.study import load_study
    from dsf_search.results.weights import trial_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY_PROTOCOL)
    space = tmp_path / "s.yaml"
    space.write_text(TINY_SPACE.format(name="s", extra="", sampler="random", trials=2, parallelism=1))
    run_search(str(space), out=io.StringIO(), show_progress=False, executor="serial", root=str(tmp_path / "results"))
    folder = tmp_path / "export"
    assert main(["export", "s", "--trial", "1", "--out", str(folder), "--root", str(tmp_path / "results")]) == 0
    printed = capsys.readouterr().out
    assert "(trained weights)" in printed
    config = json.loads((folder / "config.json").read_text())
    assert config["weights"] == "weights.pt" and config["source"]["trial"] == 1 and config["source"]["task"] == "parity"
    kept = trial_model(load_study("s", root=tmp_path / "results"), 1, tmp_path / "results")
    assert "trials/1/parity.pt" in str(kept.path)
    assert "Trained weights: task parity" in (folder / "model.py").read_text()
    check(folder, folder / "weights.pt", kept.model(), tmp_path)


def test_export_of_an_unknown_preset_or_an_unwritten_axis_exits_2(tmp_path, capsys, monkeypatch):
    from dsf_search.core import standalone

    assert main(["export", "no_such_preset", "--out", str(tmp_path / "x")]) == 2
    assert "no_such_preset" in capsys.readouterr().err
    # an axis (or a value) added to the specs later and not taught to the generator is refused, not mis-exported
    axes = dict(standalone.MIXER_AXES)
    del axes["householder_factors"]
    monkeypatch.setattr(standalone, "MIXER_AXES", axes)
    assert main(["export", "deltaproduct", "--out", str(tmp_path / "y")]) == 2
    assert "householder_factors = 2: `export` does not write this axis out yet" in capsys.readouterr().err
    monkeypatch.setattr(standalone, "MIXER_AXES", {**axes, "gate": ("mamba",)})
    assert main(["export", "kda", "--out", str(tmp_path / "z")]) == 2
    assert "gate = 'kda': `export` does not write this value out yet" in capsys.readouterr().err


# combinations no preset has: a rotation on fixed gates (its angles the only Gate of the layer);
# Griffin's wiring with DeltaProduct's factors (whose delta-rule injection leaves no unscaled first
# token); Mamba-1's wiring on a diagonal gate with one magnitude per rotated pair; xLSTM's wiring with
# a rotation; Mamba-2's wiring on the exp readout of a decay outside
VARIANTS = {"retnet": {"rotation": "learned"},
            "gated_deltanet": {"householder_factors": 2, "wiring": "griffin"},
            "gla": {"wiring": "mamba", "rotation": "learned"},
            "mlstm": {"rotation": "learned"},
            "fox": {"wiring": "ssd", "conv_size": 4, "output_norm": True, "output_gate": "silu"},
            "mamba3": {"normalization": "sum", "conv_size": 4, "gate": "gla"}}


@pytest.mark.parametrize("preset", list(ZOO) + [f"{name}+" for name in VARIANTS])
def test_every_preset_exports_and_matches(preset, tmp_path):
    """In process (fast): the generated module's logits, over the sequence and decoded token by
    token, equal SequenceModel's with the same weights (the frontier presets included: rotations,
    dplr, Householder factors, decay outside; NAME+ is NAME with the axes of VARIANTS)."""
    spec = candidate_spec(preset.rstrip("+"), load_protocol(default_protocol_path()))
    if preset.endswith("+"):
        layer = dataclasses.replace(spec.layers[0], **VARIANTS[preset[:-1]])
        spec = dataclasses.replace(spec, layers=type(spec.layers)([layer] * spec.n_layers))
    path = tmp_path / "model.py"
    path.write_text(standalone_source(spec, preset, []))
    torch.manual_seed(0)
    model = SequenceModel(spec).eval()
    exported = load_module(path).Model().eval()
    exported.load_state_dict(model.state_dict(), strict=True)
    tokens = torch.randint(0, spec.vocab_size, (2, 6), generator=torch.Generator().manual_seed(1))
    whole, steps = reference(model, tokens)
    assert whole.abs().max() > 0.1
    with torch.no_grad():
        got = exported(tokens)
        state, decoded = None, []
        for t in range(tokens.shape[1]):
            logits, state = exported.step(tokens[:, t], state)
            decoded.append(logits)
    torch.testing.assert_close(got, whole, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(torch.stack(decoded, dim=1), steps, atol=1e-4, rtol=1e-4)


def test_an_exported_spec_file_with_a_hybrid_of_mixers_matches(tmp_path, capsys):
    """Two different mixers (two classes in the file; GLA's diagonal gate, DSF normalized attention's
    learned normalizer), learned positions, layernorm, MLP, tied embeddings."""
    import yaml

    from dsf_search.core import zoo

    spec_file = tmp_path / "hybrid.yaml"
    spec_file.write_text(yaml.safe_dump({
        "d_model": 32, "channel_mixer": "mlp", "norm": "layernorm", "positional": "learned", "max_len": 64,
        "tie_embeddings": True,
        "layers": [zoo.mixer("gla", 32).to_dict(), zoo.mixer("normalized_attention", 32).to_dict(),
                   zoo.mixer("gla", 32).to_dict()],
    }))
    folder = tmp_path / "export"
    assert main(["export", str(spec_file), "--out", str(folder)]) == 0
    source = (folder / "model.py").read_text()
    assert "class Mixer0" in source and "class Mixer1" in source and "class Mixer2" not in source
    spec = candidate_spec(str(spec_file), load_protocol(default_protocol_path()))
    torch.manual_seed(0)
    model = SequenceModel(spec)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    check(folder, weights, model, tmp_path)
