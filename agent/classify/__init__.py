"""classify: give every line a category (rules, template cache, then the model).

Names are imported on first use (PEP 562): the model worker process runs a module of this
package and must not pay for the classifier's imports (asyncio, the config loader ...), which
measured ~9 MiB of its resident memory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.classify._classifier import Classifier, ClassifyStatistics
    from agent.classify._llm import generate_text
    from agent.classify._rules import CATEGORIES, UNCLASSIFIED, RuleSet
    from agent.classify._template import mask
    from agent.classify._template_id import TEMPLATE_ID_BYTES, template_id
    from agent.config import ClassifyConfig

_WHERE = {
    "CATEGORIES": "agent.classify._rules",
    "TEMPLATE_ID_BYTES": "agent.classify._template_id",
    "UNCLASSIFIED": "agent.classify._rules",
    "Classifier": "agent.classify._classifier",
    "ClassifyConfig": "agent.config",
    "ClassifyStatistics": "agent.classify._classifier",
    "RuleSet": "agent.classify._rules",
    "generate_text": "agent.classify._llm",
    "mask": "agent.classify._template",
    "template_id": "agent.classify._template_id",
}

__all__ = [
           "CATEGORIES",
           "TEMPLATE_ID_BYTES",
           "UNCLASSIFIED",
           "Classifier",
           "ClassifyConfig",
           "ClassifyStatistics",
           "RuleSet",
           "generate_text",
           "mask",
           "template_id",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
