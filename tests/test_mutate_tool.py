"""tools/mutate.py itself: every mutant is valid Python that differs from the module, and the equivalent mutants it
lists still exist (a moved or changed line must be looked at again, not silently dropped from the score)."""

from __future__ import annotations

import ast
import importlib.util
import sys

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("mutate", REPO / "tools" / "mutate.py")
assert spec is not None and spec.loader is not None
mutate = importlib.util.module_from_spec(spec)
sys.modules["mutate"] = mutate  # dataclasses look their module up
spec.loader.exec_module(mutate)


def test_equivalent_mutants_still_exist() -> None:
    keys = {mutant.key for module in mutate.TARGETS for mutant in mutate.mutants(module)}
    assert set(mutate.EQUIVALENT) <= keys, set(mutate.EQUIVALENT) - keys


def test_every_mutant_of_expr_is_one_change() -> None:
    original = ast.dump(ast.parse((REPO / "convcalc" / "spec" / "expr.py").read_text(encoding="utf-8")))
    found = mutate.mutants("spec.expr")
    kinds = {mutant.description.split(" ")[0] for mutant in found}
    assert {"+", "-", "*", "//", "%", "<", ">", "==", "in", "and", "or", "not", "drop", "False"} <= kinds, kinds
    loops = {mutant.description.split(" ")[0] for mutant in mutate.mutants("spec.fold.runs")}
    assert {"continue", "break"} <= loops, loops  # expr.py has no loop statement to mutate
    for mutant in found:
        mutated = ast.dump(ast.parse(mutate.mutated_source(mutant)))
        assert mutated != original, mutant


def test_the_targets_and_their_tests_exist() -> None:
    for path, tests in mutate.TARGETS.values():
        assert (REPO / path).is_file()
        assert all((REPO / test).is_file() for test in tests), tests
