"""Every script in examples/ runs (quick mode) and says something true."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run(script: Path) -> str:
    env = dict(os.environ, SYMGRAD_QUICK="1", PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-2000:]}\n{done.stderr}"
    return done.stdout


def loss_went_down(output: str) -> None:
    first, last = map(float, re.search(r"loss (\S+) -> (\S+?);?\s", output).groups())
    assert last < 0.5 * first, (first, last)


def check_backprop_mlp(output: str) -> None:
    forward, total = (int(n) for n in re.findall(r": (\d+) op nodes", output))
    assert forward < total <= 4 * forward
    assert "def loss_and_gradients(X, y, W1, b1, W2, b2, W3, b3):" in output
    assert "∇W3" in output and "softmax" in output
    loss_went_down(output)


def check_logdet(output: str) -> None:
    worst = float(re.search(r"worst relative difference (\S+)", output).group(1))
    assert worst < 1e-10
    assert re.search(r"symgrad L = -?\d", output)          # finite where det overflows
    assert "simplified" in output


def check_rnn_bptt(output: str) -> None:
    ratios = [float(r) for r in re.findall(r"ratio first/last (\S+)\)", output)]
    assert len(ratios) == 3
    assert ratios[0] < 1e-3 < 1.0 < ratios[2]              # vanishing, then exploding
    assert "clipped" in output
    loss_went_down(output)


CHECKS = {"backprop_mlp.py": check_backprop_mlp, "logdet.py": check_logdet,
          "rnn_bptt.py": check_rnn_bptt}


def check_attention_head(output: str) -> None:
    assert "np.matmul(" in output and "∇Wv" in output
    loss_went_down(output)


CHECKS["attention_head.py"] = check_attention_head


def test_the_lecture_examples_exist():
    assert set(CHECKS) <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script):
    output = run(script)
    assert output.strip()
    if script.name in CHECKS:
        CHECKS[script.name](output)


def test_readme_example_runs(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, flags=re.S).group(1)
    assert len(code.strip().splitlines()) <= 15
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["grad_W"].shape == (3, 4)
    assert "def f(W, x, y):" in capsys.readouterr().out


def test_readme_keeps_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "    python -m pip install -e . && python examples/backprop_mlp.py\n" in readme
    assert '    python -m pip install -e ".[test]" && python -m pytest\n' in readme


def check_dask_logistic(output: str) -> None:
    first, last = map(float, re.search(r"loss (\S+) -> (\S+)\n", output).groups())
    assert last < first
    assert float(re.search(r"cosine similarity (\S+)", output).group(1)) > 0.99
    assert float(re.search(r"max difference (\S+)", output).group(1)) < 1e-10
    assert "xp = array_namespace(X, y, w)" in output


CHECKS["dask_logistic.py"] = check_dask_logistic
