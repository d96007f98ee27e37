"""The classify stage: label every line of a batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from agent.classify._rules import UNCLASSIFIED, RuleSet
from agent.classify._template import TemplateCache, mask
from agent.config import ClassifyConfig
from agent.records import Label, LabeledBatch, LineBatch

LAYER_NONE, LAYER_RULES = 0, 1


TEMPLATE_CACHE_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class ClassifyStatistics:
    lines: int
    by_category: dict[str, int]
    templates_cached: int
    cache_hits: int
    cache_misses: int


class Classifier:
    """Gives each line a category and the layer that decided it.

    User rules run on every line (they may test any byte). The built-in rules only look at
    the shape of a line, so their decision is made once per template (`mask`) and cached.
    Lines no rule matches are `unclassified` with layer NONE. The model layer (classifier
    issue) plugs in between the rules and `unclassified`.
    """

    def __init__(self, config: ClassifyConfig) -> None:
        self._user_rules = RuleSet(config.rules, use_defaults=False)
        self._default_rules = RuleSet([], use_defaults=config.default_rules)
        self._cache: TemplateCache[Label] = TemplateCache(TEMPLATE_CACHE_ENTRIES)
        self._counts: Counter[str] = Counter()
        self._unclassified = Label(UNCLASSIFIED, LAYER_NONE, 0.0)
        self._labels: dict[str, Label] = {}

    def _rule_label(self, category: str | None) -> Label:
        if category is None:
            return self._unclassified
        label = self._labels.get(category)
        if label is None:
            label = self._labels[category] = Label(category, LAYER_RULES, 1.0)
        return label

    def label(self, line: bytes) -> Label:
        category = self._user_rules.match(line)
        if category is not None:
            return self._rule_label(category)
        template = mask(line)
        label = self._cache.get(template)
        if label is None:
            label = self._rule_label(self._default_rules.match(line))
            self._cache.put(template, label)
        return label

    def classify(self, batch: LineBatch) -> LabeledBatch:
        labels = tuple(self.label(line.data) for line in batch.lines)
        self._counts.update(label.category for label in labels)
        return LabeledBatch(batch, labels)

    def statistics(self) -> ClassifyStatistics:
        return ClassifyStatistics(
            lines=sum(self._counts.values()), by_category=dict(self._counts),
            templates_cached=len(self._cache), cache_hits=self._cache.hits,
            cache_misses=self._cache.misses)
