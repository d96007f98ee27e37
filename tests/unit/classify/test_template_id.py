"""Template ids: every label names its line's template by SHA-256(mask(line))[:8]."""

from __future__ import annotations

import hashlib

from agent.classify import Classifier, mask, template_id
from agent.config import ClassifyConfig, Rule

RULES_ONLY = ClassifyConfig(model=False)
FAILED = b"Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2"


def test_template_id_is_the_first_8_bytes_of_sha256_of_the_template() -> None:
    """The id is defined by the mask alone, so any verifier can recompute it."""
    template = mask(FAILED)
    assert template_id(template) == hashlib.sha256(template).digest()[:8]


def test_lines_differing_only_in_numbers_share_a_template_id() -> None:
    """Addresses, ports and pids are masked: two attempts are one template."""
    other = b"Failed password for invalid user admin from 198.51.100.77 port 61 ssh2"
    assert template_id(mask(FAILED)) == template_id(mask(other))
    assert template_id(mask(FAILED)) != template_id(mask(b"Accepted password for admin"))


def test_rules_label_carries_the_template_id_of_its_line() -> None:
    """A cached rules label is per template, so its id is that template's."""
    c = Classifier(RULES_ONLY)
    assert c.label(FAILED).template_id == template_id(mask(FAILED))
    again = c.label(FAILED.replace(b"4242", b"5151"))
    assert again.template_id == template_id(mask(FAILED))


def test_unclassified_lines_still_carry_their_template_id() -> None:
    """Lines no rule names are aggregated by template too."""
    line = b"GET /index.html 200"
    label = Classifier(RULES_ONLY).label(line)
    assert (label.category, label.template_id) == ("unclassified", template_id(mask(line)))


def test_user_rule_labels_carry_the_template_id_of_the_line() -> None:
    """User rules decide per line, and the line's template id comes with the decision."""
    config = ClassifyConfig(rules=[Rule(pattern=r"Failed password for demo", category="normal")],
                            model=False)
    line = b"Failed password for demo from 1.2.3.4"
    label = Classifier(config).label(line)
    assert (label.category, label.template_id) == ("normal", template_id(mask(line)))
