"""The classify stage: label every line of a batch.

Per line: user rules (every line; they may test any byte) → the template's cached label → the
built-in rules for the categories they decide precisely → the model (once per new template, in
a worker process; an answer below `model_min_confidence` is replaced by the rules' label or
`unclassified`) → when the model has not answered within `max_wait_ms`: the rules' label or
`unclassified`, with layer FALLBACK, counted and not cached, so later lines of that template get
the model's answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from agent.classify._pool import Answer, ModelSpec, WorkerPool, check_model, shipped_spec
from agent.classify._rules import EVIDENCE, UNCLASSIFIED, RuleSet, supported_categories
from agent.classify._template import TemplateCache, fast_keys, mask, mask_many
from agent.classify._template_id import template_id
from agent.config import ClassifyConfig
from agent.records import Label, LabeledBatch, LineBatch

log = logging.getLogger("sealtail.classify")

LAYER_NONE, LAYER_RULES, LAYER_MODEL, LAYER_FALLBACK = 0, 1, 2, 3
CACHE_FILE = "classify-cache.bin"
_CACHE_FORMAT = b"sealtail-template-cache/1"
_ENTRY = struct.Struct("<HHf")  # template length, category index, confidence
# The built-in layers (masking, default rules, the answer check, the model) read at most this
# much of a line: their regular expressions cost ~1 us per byte, and they run on the event
# loop, so a 1 MiB line held the agent ~1-2 s. Words that carry a category come first in real
# lines; the whole line is still sealed, and user rules still see every byte.
CLASSIFY_HEAD_BYTES = 8192


def heads(lines: Sequence[bytes]) -> Sequence[bytes]:
    """`lines`, each cut to CLASSIFY_HEAD_BYTES (the same list when none is longer)."""
    if not lines or max(map(len, lines)) <= CLASSIFY_HEAD_BYTES:
        return lines
    return [line[:CLASSIFY_HEAD_BYTES] for line in lines]


# Fast keys remembered (key -> template); the map is cleared when full. Real logs have a few
# keys per template (genlog: 11 templates, ~760 keys in 200 k lines).
FAST_KEYS_MAX = 16_384


@dataclass(frozen=True, slots=True)
class ClassifyStatistics:
    lines: int
    by_category: dict[str, int]
    by_layer: dict[int, int]
    templates_cached: int
    cache_hits: int
    cache_misses: int
    model_answers: int = 0
    model_unsure: int = 0    # answers below model_min_confidence, replaced by the rules' label
    model_vetoed: int = 0    # model answers the line's own words do not support, made `normal`
    fallback_lines: int = 0
    worker_crashes: int = 0
    worker_restarts: int = 0
    model_latency_count: int = 0       # model answers timed (submit -> answer)
    model_latency_sum_secs: float = 0.0


def model_spec(config: ClassifyConfig) -> ModelSpec:
    """The model the config asks for: the shipped one, or model_file with its labels."""
    if not config.model_file:
        return shipped_spec()
    pairs = [p.partition("=") for p in config.model_labels]
    return ModelSpec(Path(config.model_file), config.model_sha256, config.model_prompt,
                     tuple(token for _, _, token in pairs), tuple(c for c, _, _ in pairs),
                     config.model_check_answers)


def _remember(keys: dict[bytes, bytes], key: bytes | None, template: bytes) -> None:
    if key is None:
        return
    if len(keys) >= FAST_KEYS_MAX:
        keys.clear()  # bounded; the next batches refill it with the keys that recur
    keys[key] = template


class Classifier:
    """Gives each line a category and the layer that decided it.

    With `config.model` off this is the rules layer alone: lines no rule matches are
    `unclassified` with layer NONE. Close it (`close()`) to stop the model workers and save
    the template cache.
    """

    def __init__(self, config: ClassifyConfig, *, state_dir: Path | None = None) -> None:
        self._config = config
        self._user_rules = RuleSet(config.rules, use_defaults=False)
        self._default_rules = RuleSet([], use_defaults=config.default_rules)
        self._cache: TemplateCache[Label] = TemplateCache(config.cache_templates)
        self._key_templates: dict[bytes, bytes] = {}  # fast key -> template, bounded
        self._has_user_rules = bool(config.rules)
        self._counts: Counter[str] = Counter()
        self._layers: Counter[int] = Counter()
        # user-rule labels, one object per (category, template): bounded like the key map
        self._user_labels: dict[tuple[str, bytes], Label] = {}
        self._pending: dict[bytes, Future[Answer]] = {}
        # pending template -> the categories its line's words support (_rules.EVIDENCE)
        self._supported: dict[bytes, frozenset[str]] = {}
        # pending template -> the built-in rules' category for its line (None: no rule), the
        # label when the model cannot answer: rules judge the line, not its masked template
        # (masking removes digit-bearing words such as "status=1/FAILURE")
        self._rule_category: dict[bytes, str | None] = {}
        self._check_answers = False  # set from the model's spec below
        self._done: deque[bytes] = deque()  # templates answered (appended by worker threads)
        self._latencies: deque[float] = deque()  # seconds per answer (appended by threads)
        self._latency_count = 0
        self._latency_sum = 0.0
        self._fallbacks = self._answers = self._unsure = self._vetoed = 0
        self._pool: WorkerPool | None = None
        self._spec: ModelSpec | None = None
        self._cache_path = state_dir / CACHE_FILE if state_dir and config.cache_persist else None
        if config.model:
            self._spec = model_spec(config)
            self._check_answers = self._spec.check_answers
            check_model(self._spec)  # missing, corrupt or wrong-hash file: fail now, by name
            self._pool = WorkerPool(self._spec, config.model_workers,
                                    config.max_queued_templates)
            self._load_cache()

    # ------------------------------------------------------------ labels

    # Every label carries its template's id (Label is what the template cache holds, so the
    # id is computed once per template and every cache layer carries it).

    def _template_id(self, template: bytes) -> bytes:
        cached = self._cache.peek(template)
        return cached.template_id if cached is not None else template_id(template)

    def _rules_label(self, line: bytes, layer: int, tid: bytes) -> Label:
        return self._rule_label(self._default_rules.match(line), layer, tid)

    @staticmethod
    def _rule_label(category: str | None, layer: int, tid: bytes) -> Label:
        if category is None:
            return Label(UNCLASSIFIED, LAYER_NONE if layer == LAYER_RULES else LAYER_FALLBACK,
                         0.0, tid)
        return Label(category, layer, 1.0, tid)

    def _user_label(self, category: str, template: bytes) -> Label:
        key = (category, template)
        label = self._user_labels.get(key)
        if label is None:
            if len(self._user_labels) >= FAST_KEYS_MAX:
                self._user_labels.clear()
            label = self._user_labels[key] = Label(category, LAYER_RULES, 1.0,
                                                   self._template_id(template))
        return label

    def _lookup_many(self, full: Sequence[bytes], lines: Sequence[bytes]
                     ) -> tuple[list[Label | bytes], list[int]]:
        """A label per line now, or the template whose model answer is pending; and the
        indexes of the pending ones.

        Same labels as `_lookup` line by line, but the warm path runs at C speed per line:
        fast key (one regex pass over the whole batch) → the template that key was masked to
        before → cached label. Only lines with new fast keys are masked (together, one
        `mask_many` pass), and only lines whose template is not cached take `_decide`.
        `lines` are the `heads` of `full`, which only user rules read.
        """
        keys = fast_keys(lines)
        all_templates = list(map(self._key_templates.get, keys))  # type: ignore[arg-type]
        unknown = [i for i, t in enumerate(all_templates) if t is None]
        if unknown:
            for i, template in zip(unknown, mask_many([lines[i] for i in unknown]), strict=True):
                all_templates[i] = template
                _remember(self._key_templates, keys[i], template)
        rest: list[int] | None = None
        todo: Sequence[bytes] = lines
        templates: list[bytes | None] = all_templates
        user: dict[int, Label] = {}
        if self._has_user_rules:
            # User rules test every line (any byte may matter); their label still names the
            # line's template.
            match = self._user_rules.match
            rest = []
            for i, line in enumerate(full):
                category = match(line)
                if category is None:
                    rest.append(i)
                else:
                    known = all_templates[i]
                    assert known is not None
                    user[i] = self._user_label(category, known)
            todo = [lines[i] for i in rest]
            templates = [all_templates[i] for i in rest]
        found: list[Label | bytes | None] = list(self._cache.get_many(templates))
        missed = [i for i, label in enumerate(found) if label is None]
        for i in missed:
            line_template = templates[i]
            assert line_template is not None
            found[i] = self._decide(todo[i], line_template)
        if rest is not None:
            merged: list[Label | bytes | None] = [None] * len(lines)
            for j, i in enumerate(rest):
                merged[i] = found[j]
            for i, label in user.items():
                merged[i] = label
            found = merged
        result = cast(list[Label | bytes], found)
        pending = [i for i, item in enumerate(result) if item.__class__ is bytes] if missed else []
        return result, pending

    def _decide(self, line: bytes, template: bytes) -> Label | bytes:
        """The label of a line whose template may be new (the full path, per line)."""
        label = self._cache.get(template)
        if label is not None:
            return label
        tid = template_id(template)
        if self._pool is None:
            label = self._rules_label(line, LAYER_RULES, tid)
            self._cache.put(template, label)
            return label
        category = self._default_rules.match(line)
        # a precise built-in rule stands with the model on (_rules: RuleSet.decides)
        if self._default_rules.decides(line, category):
            assert category is not None
            label = Label(category, LAYER_RULES, 1.0, tid)
            self._cache.put(template, label)
            return label
        if template not in self._pending:
            fut = self._pool.submit(template)
            if fut is None:  # queue full: a flood of new templates must not grow memory
                self._fallbacks += 1
                return self._rules_label(line, LAYER_FALLBACK, tid)
            self._pending[template] = fut
            # Judged on the line: masking may remove the words (BGL "generating core.2275").
            self._supported[template] = supported_categories(line)
            self._rule_category[template] = category
            fut.add_done_callback(self._on_done(template, time.monotonic()))
        return template

    def _lookup(self, line: bytes) -> Label | bytes:
        """One line by the full path (mask, then `_decide`): what `_lookup_many` must equal."""
        head = line[:CLASSIFY_HEAD_BYTES]
        template = mask(head)
        category = self._user_rules.match(line)
        if category is not None:
            return self._user_label(category, template)
        return self._decide(head, template)

    def _on_done(self, template: bytes,
                 submitted: float) -> Callable[[Future[Answer]], None]:
        # Runs in a worker thread: only deque appends, which are thread-safe.
        def done(_fut: Future[Answer]) -> None:
            self._latencies.append(time.monotonic() - submitted)
            self._done.append(template)

        return done

    def _take(self, template: bytes) -> None:
        """If the model has answered `template`, move the answer into the cache."""
        fut = self._pending.get(template)
        if fut is None or not fut.done():
            return
        del self._pending[template]
        supported = self._supported.pop(template, None)
        rule_category = self._rule_category.pop(template, None)  # set with _pending
        answer = None if fut.cancelled() else fut.result()
        assert self._spec is not None
        tid = template_id(template)
        if answer is None:  # the worker died on this template twice: never ask again
            label = self._rule_label(rule_category, LAYER_FALLBACK, tid)
        elif answer[1] < self._config.model_min_confidence:
            # An unsure answer is mostly a line unlike anything trained on; measured on the
            # shared data's development systems, trusting it did more harm than the rules.
            self._answers += 1
            self._unsure += 1
            label = self._rule_label(rule_category, LAYER_RULES, tid)
        else:
            self._answers += 1
            index, confidence = answer
            category = self._spec.categories[index]
            if (self._check_answers and category in EVIDENCE and supported is not None
                    and category not in supported):
                # A small model guesses on lines unlike its training: `error` for routine lines
                # ("line one": error, 0.998), `login` for app chatter. An answer of a taxonomy
                # category stands only when the line's own words could say it (_rules.EVIDENCE).
                # Measured (make eval, README "Checking the model's answers"): the `error`
                # check took development 0.862 -> 0.940 macro-F1.
                self._vetoed += 1
                category = "normal"
            label = Label(category, LAYER_MODEL, confidence, tid)
        self._cache.put(template, label)

    def _harvest(self) -> None:
        """Cache every answered template, also those no line is waiting for any more."""
        while self._done:
            self._take(self._done.popleft())

    def _resolve(self, line: bytes, template: bytes) -> Label:
        """The model's label for a line whose template was pending, or its fallback."""
        self._harvest()
        self._take(template)  # its done-callback may not have run yet
        label = self._cache.peek(template)
        if label is not None:
            return label
        self._fallbacks += 1
        return self._rules_label(line, LAYER_FALLBACK, template_id(template))

    def label(self, line: bytes) -> Label:
        """The line's label, waiting for the model as long as it takes (offline use)."""
        return self.label_many([line])[0]

    def label_many(self, lines: Sequence[bytes]) -> list[Label]:
        """Labels of `lines`, waiting for the model without a bound (offline use)."""
        cut = heads(lines)
        items, pending = self._lookup_many(lines, cut)
        wait_futures([self._pending[t] for t in {items[i] for i in pending}
                      if t in self._pending])
        return self._finish(cut, items, pending)

    def _finish(self, lines: Sequence[bytes], items: list[Label | bytes],
                pending: list[int]) -> list[Label]:
        for i in pending:
            items[i] = self._resolve(lines[i], items[i])  # type: ignore[arg-type]
        labels: list[Label] = items  # type: ignore[assignment]
        # Counted per distinct label object (few per batch), at C speed per line.
        ids = list(map(id, labels))
        by_id = dict(zip(ids, labels, strict=True))
        for key, n in Counter(ids).items():
            label = by_id[key]
            self._counts[label.category] += n
            self._layers[label.layer] += n
        return labels

    def classify(self, batch: LineBatch) -> LabeledBatch:
        """Label a batch, waiting for the model without a bound (offline use)."""
        return LabeledBatch(batch, tuple(self.label_many([line.data for line in batch.lines])))

    async def classify_async(self, batch: LineBatch) -> LabeledBatch:
        """Label a batch, waiting at most `max_wait_ms` for the model (the agent's path)."""
        self._harvest()
        lines = [line.data for line in batch.lines]
        cut = heads(lines)
        items, pending = self._lookup_many(lines, cut)
        waiting = {self._pending[t] for t in {items[i] for i in pending}
                   if t in self._pending}
        if waiting:
            # Wrapping does not cancel the work when the wait times out: the answer still
            # lands in the cache for the template's later lines.
            await asyncio.wait([asyncio.wrap_future(f) for f in waiting],
                               timeout=self._config.max_wait_ms / 1000)
        return LabeledBatch(batch, tuple(self._finish(cut, items, pending)))

    # ------------------------------------------------------------ cache file

    def _load_cache(self) -> None:
        if self._cache_path is None or self._spec is None:
            return
        try:
            data = self._cache_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("template cache %s not read: %s; starting cold", self._cache_path, exc)
            return
        head, _, body = data.partition(b"\n")
        if head != _CACHE_FORMAT + b" " + self._spec.fingerprint().encode():
            log.info("template cache %s is for another model or format; starting cold",
                     self._cache_path)
            return
        pos = loaded = 0
        categories = self._spec.categories
        try:
            while pos < len(body):
                n, index, confidence = _ENTRY.unpack_from(body, pos)
                pos += _ENTRY.size
                template = body[pos:pos + n]
                pos += n
                if len(template) != n or index >= len(categories):
                    raise ValueError("entry out of range")
                self._cache.put(template, Label(categories[index], LAYER_MODEL, confidence,
                                                template_id(template)))
                loaded += 1
        except (struct.error, ValueError):
            log.warning("template cache %s is damaged after %d entries; kept those",
                        self._cache_path, loaded)
        log.info("template cache: %d model labels loaded from %s", loaded, self._cache_path)

    def save_cache(self) -> int:
        """Write the model's template labels to the state directory atomically; returns count."""
        if self._cache_path is None or self._spec is None:
            return 0
        index = {c: i for i, c in enumerate(self._spec.categories)}
        parts = [_CACHE_FORMAT + b" " + self._spec.fingerprint().encode() + b"\n"]
        count = 0
        for template, label in self._cache.items():
            if label.layer == LAYER_MODEL:  # rules are cheap to redo; fallbacks must be redone
                parts.append(_ENTRY.pack(len(template), index[label.category], label.confidence))
                parts.append(template)
                count += 1
        tmp = self._cache_path.with_suffix(".tmp")
        # temp file → fsync → rename → fsync dir: a crash leaves the old or the new file whole.
        with tmp.open("wb") as f:
            f.write(b"".join(parts))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self._cache_path)
        fd = os.open(self._cache_path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return count

    # ------------------------------------------------------------ lifecycle

    def worker_pids(self) -> list[int]:
        return self._pool.pids() if self._pool else []

    def close(self) -> None:
        """Save the cache and stop the model workers."""
        if self._pool is not None:
            try:
                saved = self.save_cache()
                if saved:
                    log.info("template cache: saved %d model labels", saved)
            except OSError as exc:
                log.warning("template cache not saved: %s", exc)
            self._pool.close()
            self._pool = None

    def statistics(self) -> ClassifyStatistics:
        pool = self._pool
        while self._latencies:
            self._latency_sum += self._latencies.popleft()
            self._latency_count += 1
        return ClassifyStatistics(
            lines=sum(self._counts.values()), by_category=dict(self._counts),
            by_layer=dict(self._layers), templates_cached=len(self._cache),
            cache_hits=self._cache.hits, cache_misses=self._cache.misses,
            model_answers=self._answers, model_unsure=self._unsure, model_vetoed=self._vetoed,
            fallback_lines=self._fallbacks,
            worker_crashes=pool.crashes if pool else 0,
            worker_restarts=pool.restarts if pool else 0,
            model_latency_count=self._latency_count,
            model_latency_sum_secs=self._latency_sum)

