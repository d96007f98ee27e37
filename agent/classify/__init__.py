"""classify: give every line a category (rules now; the model plugs in behind them)."""

from agent.classify._classifier import Classifier, ClassifyStatistics
from agent.classify._rules import CATEGORIES, UNCLASSIFIED, RuleSet
from agent.config import ClassifyConfig

__all__ = [
           "CATEGORIES",
           "UNCLASSIFIED",
           "Classifier",
           "ClassifyConfig",
           "ClassifyStatistics",
           "RuleSet",
]
