"""classify: give every line a category (rules now; the model plugs in behind them)."""

from agent.classify._classifier import Classifier, ClassifyStatistics
from agent.classify._rules import CATEGORIES, UNCLASSIFIED, RuleSet
from agent.classify._template import mask
from agent.classify._template_id import TEMPLATE_ID_BYTES, template_id
from agent.config import ClassifyConfig

__all__ = [
           "CATEGORIES",
           "TEMPLATE_ID_BYTES",
           "UNCLASSIFIED",
           "Classifier",
           "ClassifyConfig",
           "ClassifyStatistics",
           "RuleSet",
           "mask",
           "template_id",
]
