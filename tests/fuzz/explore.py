"""Run the fuzz of tests/test_fuzz.py at length and list every distinct failure, not only the first.

Usage, from the repository root (minutes; not part of the suite)::

    python tests/fuzz/explore.py [EXAMPLES_PER_TEST] [SEED]

Each failure is printed once per signature (the command, the kind of input and the last line of
the traceback or the broken promise), with the command line and the stderr of its first example.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(examples: int, seed: int) -> None:
    """Run each fuzz test for ``examples`` random examples from ``seed``; print the failures grouped."""
    import test_fuzz as fz
    import tomli_w
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    found: dict[str, tuple[str, int]] = {}
    outcomes: dict[str, int] = {}
    real_run_in_process = fz.run_in_process

    def counting_run(argv: list[str]) -> Any:
        run = real_run_in_process(argv)
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        shown = " / ".join(ln.strip()[:70] for ln in lines[:2])
        for path in argv[1:]:
            shown = shown.replace(str(Path(path).parent), "")
        key = f"{argv[0]} exit {run.exit_code}: {shown}"
        outcomes[key] = outcomes.get(key, 0) + 1
        return run

    fz.run_in_process = counting_run

    def record(kind: str, body: Callable[[], Any]) -> None:
        try:
            body()
        except AssertionError as exc:
            text = str(exc)
            first = text.splitlines()[0]
            command = first.split(" ", 2)[1] if first.startswith("trialkit ") else "?"
            lines = [ln for ln in text.splitlines() if ln.strip()]
            key = f"{command} {kind}: {first.split(': ', 1)[-1][:60]} | {lines[-1][:160]}"
            old = found.get(key)
            found[key] = (old[0] if old else text, (old[1] if old else 0) + 1)
        except Exception:
            key = f"harness {kind}: {traceback.format_exc().splitlines()[-1][:160]}"
            old = found.get(key)
            found[key] = (old[0] if old else traceback.format_exc(), (old[1] if old else 0) + 1)

    conf = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )

    @hseed(seed)
    @conf
    @given(kind=st.sampled_from(fz.KINDS), command=st.sampled_from(fz.COMMANDS), data=st.data())
    def specs(kind: str, command: str, data: st.DataObject) -> None:
        with fz.workspace() as root:
            inputs = fz.make_inputs(root / "inputs", kind)
            text = data.draw(fz.spec_bytes(inputs.spec))
            record("spec:" + kind, lambda: fz.run_command(command, inputs, text))

    @hseed(seed)
    @conf
    @given(kind=st.sampled_from(fz.KINDS), command=st.sampled_from(fz.COMMANDS), data=st.data())
    def files(kind: str, command: str, data: st.DataObject) -> None:
        with fz.workspace() as root:
            inputs = fz.make_inputs(root / "inputs", kind)
            relax = data.draw(st.booleans())

            def body() -> None:
                fz.mutate_data(data, inputs, kind)
                spec = fz.relaxed(inputs.spec) if relax else inputs.spec
                spec = data.draw(fz.with_options(spec, most=2))
                fz.run_command(command, inputs, tomli_w.dumps(spec).encode())

            record("data:" + kind, body)

    @hseed(seed)
    @conf
    @given(text=fz.design_bytes())
    def designs(text: bytes) -> None:
        with fz.workspace() as root:
            (root / "inputs").mkdir()
            design = root / "inputs" / "design.toml"
            design.write_bytes(text)
            out = root / "outputs" / "sim"
            before = fz._hashes(root / "inputs")
            run = fz.run_in_process(["simulate", str(design), "--seed", "7", "--out", str(out)])
            record("design", lambda: fz.check_run(run, inputs=root / "inputs", before=before, out=out, problems=None))

    @hseed(seed)
    @conf
    @given(name=st.sampled_from(("abbasi2012", "student1908")), data=st.data())
    def published(name: str, data: st.DataObject) -> None:
        tree = data.draw(fz.mutated_tree(fz._published_tree(name), fz.DESIGN_VALUES))
        with fz.workspace() as root:
            (root / "inputs").mkdir()
            path = root / "inputs" / "published.toml"
            path.write_text(tomli_w.dumps(tree), encoding="utf-8")
            out = root / "outputs" / "reproduce"
            before = fz._hashes(root / "inputs")
            run = fz.run_in_process(["reproduce", str(path), "--out", str(out)])
            record(
                "published", lambda: fz.check_run(run, inputs=root / "inputs", before=before, out=out, problems=None)
            )

    for test in (specs, files, designs, published):
        test()
    for key, (text, n) in sorted(found.items()):
        print(f"=== {n}x {key}\n{text[:3000]}\n")
    for key, n in sorted(outcomes.items(), key=lambda kv: -kv[1]):
        print(f"{n:5d} {key}")
    print(f"{len(found)} distinct failures")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
