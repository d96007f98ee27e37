"""The training-data generators: deterministic, labelled in the taxonomy, many families."""

from __future__ import annotations

from collections import Counter

from agent.classify import CATEGORIES
from agent.classify.training.generators import FAMILIES, generate, templates


def test_same_seed_gives_the_same_lines() -> None:
    """Training is reproducible: the generator is a pure function of (n, seed)."""
    assert list(generate(500, seed=3)) == list(generate(500, seed=3))
    assert list(generate(500, seed=3)) != list(generate(500, seed=4))


def test_every_category_and_family_is_generated() -> None:
    """Every taxonomy category occurs; every family's templates all render."""
    counts = Counter(category for _, category in generate(20_000, seed=1))
    assert set(counts) == set(CATEGORIES)
    assert len(FAMILIES) >= 20
    assert {c for _, c, _ in templates()} == set(CATEGORIES)


def test_generated_lines_are_single_lines() -> None:
    """No generated line contains a newline (the tailer would split it)."""
    assert all("\n" not in line for line, _ in generate(5_000, seed=2))
