"""The classify stage: label every line of a batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from agent.classify._rules import UNCLASSIFIED, RuleSet
from agent.config import ClassifyConfig
from agent.records import Label, LabeledBatch, LineBatch

LAYER_NONE, LAYER_RULES = 0, 1


@dataclass(frozen=True, slots=True)
class ClassifyStatistics:
    lines: int
    by_category: dict[str, int]


class Classifier:
    """Gives each line a category and the layer that decided it.

    Rules first (user, then built-in); lines no rule matches are `unclassified` with layer
    NONE. The model layer (classifier issue) plugs in between rules and `unclassified`.
    """

    def __init__(self, config: ClassifyConfig) -> None:
        self._rules = RuleSet(config.rules, use_defaults=config.default_rules)
        self._counts: Counter[str] = Counter()
        self._unclassified = Label(UNCLASSIFIED, LAYER_NONE, 0.0)
        self._labels: dict[str, Label] = {}

    def label(self, line: bytes) -> Label:
        category = self._rules.match(line)
        if category is None:
            return self._unclassified
        label = self._labels.get(category)
        if label is None:
            label = self._labels[category] = Label(category, LAYER_RULES, 1.0)
        return label

    def classify(self, batch: LineBatch) -> LabeledBatch:
        labels = tuple(self.label(line.data) for line in batch.lines)
        self._counts.update(label.category for label in labels)
        return LabeledBatch(batch, labels)

    def statistics(self) -> ClassifyStatistics:
        return ClassifyStatistics(lines=sum(self._counts.values()), by_category=dict(self._counts))
