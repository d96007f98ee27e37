"""The model layer: the shipped model, its worker process, the hazards it guards, its cache."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.classify import Classifier, mask, template_id
from agent.classify._classifier import CACHE_FILE, LAYER_FALLBACK, LAYER_MODEL, LAYER_RULES
from agent.classify._pool import shipped_spec
from agent.config import ClassifyConfig
from agent.errors import ErrorCode, ModelError
from agent.records import Cursor, FileIdentity, LineBatch, RawLine

# The model alone, every answer taken (the agent's default ignores answers below 0.9).
MODEL_ONLY = ClassifyConfig(default_rules=False, cache_persist=False, model_min_confidence=0.0)


@pytest.fixture(scope="module")
def model() -> Iterator[Classifier]:
    classifier = Classifier(MODEL_ONLY)
    yield classifier
    classifier.close()


def batch_of(lines: list[bytes]) -> LineBatch:
    cursor = Cursor("x.log", FileIdentity(1, 1, b"", 0), 0)
    return LineBatch(cursor, tuple(RawLine(line, i, 0) for i, line in enumerate(lines)))


def custom_config(path: Path, sha256: str = "", **kw: object) -> ClassifyConfig:
    spec = shipped_spec()
    labels = [f"{c}={t}" for c, t in zip(spec.categories, spec.labels, strict=True)]
    return ClassifyConfig(model_file=str(path), model_sha256=sha256, model_labels=labels,
                          cache_persist=False, **kw)  # type: ignore[arg-type]


REAL_LINES = [
    (b"Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port "
     b"49116 ssh2", "login"),
    (b"Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user test9 from "
     b"52.80.34.196 port 36060 ssh2", "failed_login"),
    (b'10.0.0.5 - - [03/Dec/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8"',
     "normal"),
    (b"2015-10-18 18:05:49,470 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2."
     b"app.rm.RMContainerAllocator: ERROR IN CONTACTING RM.", "error"),
    (b"Jun  9 06:06:20 combo kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: inode "
     b"#2: comm ls: reading directory lblock 0", "error"),
    (b"Mar  3 10:00:01 web-1 useradd[812]: new user: name=backup, UID=1002, GID=1002, "
     b"home=/home/backup, shell=/bin/bash", "admin_change"),
]


@pytest.mark.parametrize(("line", "category"), REAL_LINES)
def test_shipped_model_labels_real_lines(model: Classifier, line: bytes, category: str) -> None:
    """The shipped model alone gives common real lines their taxonomy category."""
    label = model.label(line)
    assert (label.category, label.layer) == (category, LAYER_MODEL)
    assert 0.0 < label.confidence <= 1.0


HOSTILE = [
    b"", b"\xff\xfe\xc3", b"truncated multibyte \xe2\x82", "🚀".encode() * 1000,
    b"a" * 100 * 1024, b"1234567890" * 50, b"NUL\x00inside", b"<s></s><unk> literal specials",
    b"\t\t  tabs and  spaces \x1b[31mANSI\x1b[0m", "umlaut äöü CJK 日本語".encode(),
]


def test_hostile_lines_get_a_model_label_without_crashing_the_worker(model: Classifier) -> None:
    """Empty, invalid UTF-8, emoji, 100 KiB, NUL and special-token lines never crash a worker."""
    before = model.statistics().worker_crashes
    labels = model.label_many(HOSTILE)
    assert all(label.layer == LAYER_MODEL for label in labels)
    assert model.statistics().worker_crashes == before


def test_one_template_is_asked_once(model: Classifier) -> None:
    """Lines differing only in numbers share a template and one model answer."""
    before = model.statistics().model_answers
    model.label_many([f"Connection from 10.0.0.{i} port {4000 + i} on eth9 xyzzy".encode()
                      for i in range(50)])
    assert model.statistics().model_answers == before + 1


def test_killed_worker_is_restarted_and_no_line_is_lost() -> None:
    """SIGKILL of the worker mid-burst: every line still gets a label; the crash is counted."""
    classifier = Classifier(MODEL_ONLY)
    try:
        lines = [f"burst event kind{chr(97 + i % 26)}{chr(97 + i // 26 % 26)} happened".encode()
                 for i in range(300)]
        (pid,) = classifier.worker_pids()
        pending = [classifier._pool.submit(b"warm")]  # type: ignore[union-attr]
        assert pending[0] is not None
        pending[0].result(10)
        os.kill(pid, signal.SIGKILL)
        labels = classifier.label_many(lines)
        assert len(labels) == len(lines)
        stats = classifier.statistics()
        assert stats.worker_crashes >= 1 and stats.worker_restarts >= 1
        assert classifier.worker_pids() != [pid]
        assert classifier.label(b"after the crash: Accepted password for bob").layer == LAYER_MODEL
    finally:
        classifier.close()


async def test_slow_model_never_holds_a_line_past_the_bound() -> None:
    """With max_wait_ms=1 and many new templates, lines come back fast, flagged as fallback."""
    classifier = Classifier(ClassifyConfig(max_wait_ms=1, cache_persist=False))
    try:
        lines = [f"novel message {chr(97 + i % 26)}{chr(97 + i // 26 % 26)} x".encode()
                 for i in range(400)] + [b"Failed password for root from 1.2.3.4 port 22 ssh2"]
        start = time.perf_counter()
        labeled = await classifier.classify_async(batch_of(lines))
        assert time.perf_counter() - start < 1.0
        layers = [label.layer for label in labeled.labels]
        assert LAYER_FALLBACK in layers
        assert labeled.labels[-1].layer == LAYER_RULES  # a precise rule needs no model
        assert classifier.statistics().fallback_lines == layers.count(LAYER_FALLBACK)
        assert [label.template_id for label in labeled.labels] == [
            template_id(mask(line)) for line in lines]  # fallbacks too
        assert {label.category for label in labeled.labels if label.layer == LAYER_FALLBACK
                } <= {"unclassified", "normal", "error"}
    finally:
        classifier.close()


def test_template_cache_survives_a_restart(tmp_path: Path) -> None:
    """Model answers saved in the state dir are reused after a restart without asking again."""
    config = ClassifyConfig(default_rules=False, model_min_confidence=0.0)
    lines = [b"cache test alpha happened", b"cache test beta failed badly"]
    first = Classifier(config, state_dir=tmp_path)
    labels = first.label_many(lines)
    first.close()
    assert (tmp_path / CACHE_FILE).exists()
    second = Classifier(config, state_dir=tmp_path)
    try:
        assert second.label_many(lines) == labels
        assert second.statistics().model_answers == 0
    finally:
        second.close()


def test_damaged_cache_file_starts_cold(tmp_path: Path) -> None:
    """A cache file of another format or model is ignored, not trusted."""
    (tmp_path / CACHE_FILE).write_bytes(b"garbage\n\x00\x01")
    c = Classifier(ClassifyConfig(default_rules=False, model_min_confidence=0.0),
                   state_dir=tmp_path)
    try:
        assert c.label(b"cold start line").layer == LAYER_MODEL
        assert c.statistics().model_answers == 1
    finally:
        c.close()


def test_another_gguf_with_labels_from_config_is_used(tmp_path: Path) -> None:
    """model_file + model_labels (CATEGORY=TOKEN) run that file through the same worker."""
    copy = tmp_path / "mine.gguf"
    shutil.copy(shipped_spec().path, copy)
    c = Classifier(custom_config(copy, shipped_spec().sha256, default_rules=False,
                                 model_min_confidence=0.0))
    try:
        assert c.label(REAL_LINES[0][0]).category == "login"
    finally:
        c.close()


def test_wrong_hash_fails_at_start_naming_the_file(tmp_path: Path) -> None:
    """A model whose SHA-256 differs from the configured one is refused before loading."""
    copy = tmp_path / "mine.gguf"
    shutil.copy(shipped_spec().path, copy)
    with pytest.raises(ModelError, match=str(copy)) as info:
        Classifier(custom_config(copy, "0" * 64))
    assert info.value.code == ErrorCode.MODEL_INVALID
    assert "SHA-256" in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "header", "garbage", "missing", "version1"])
def test_corrupt_model_file_fails_at_start_naming_the_file(tmp_path: Path, damage: str) -> None:
    """Truncated, garbled, missing or v1 files fail with ModelError naming the file, no crash."""
    path = tmp_path / "bad.gguf"
    data = shipped_spec().path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "header":
        path.write_bytes(data[:24] + bytes([0xFF]) * 64 + data[88:])
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "version1":
        path.write_bytes(data[:4] + (1).to_bytes(4, "little") + data[8:])
    with pytest.raises(ModelError, match=str(path)):
        Classifier(custom_config(path))


def test_shipped_model_is_small_and_matches_its_manifest() -> None:
    """The packaged model is Q8_0-sized (≤ 5 MiB) and its hash is the manifest's."""
    spec = shipped_spec()
    assert spec.path.stat().st_size <= 5 * 1024 * 1024
    Classifier(ClassifyConfig(model=False))  # no model: no worker, no check
    from agent.classify._pool import check_model
    check_model(spec)


def test_batches_keep_order_and_length_under_asyncio() -> None:
    """classify_async returns one label per line, in order."""
    c = Classifier(MODEL_ONLY)
    try:
        lines = [line for line, _ in REAL_LINES]
        labeled = asyncio.run(c.classify_async(batch_of(lines * 3)))
        assert [x.category for x in labeled.labels] == [cat for _, cat in REAL_LINES] * 3
    finally:
        c.close()


def test_unsure_model_answers_give_way_to_the_rules() -> None:
    """With model_min_confidence=1.0 no answer is sure enough: lines get rules or unclassified."""
    c = Classifier(ClassifyConfig(cache_persist=False, model_min_confidence=1.0))
    try:
        labels = c.label_many([b"kernel: EXT4-fs error (device sda1)", b"quiet ordinary line"])
        assert [(x.category, x.layer) for x in labels] == [("error", LAYER_RULES),
                                                           ("unclassified", 0)]
        assert c.statistics().model_unsure == 2
    finally:
        c.close()


def test_prefix_reuse_gives_the_answers_of_a_cleared_context() -> None:
    """Batched, prefix-sharing evaluation answers exactly as one cleared prompt at a time."""
    from agent.classify._pool import WorkerPool
    from agent.classify._template import mask_many
    from agent.classify.training.generators import generate

    templates = sorted(set(mask_many([line.encode() for line, _ in generate(400, seed=11)])))
    spec = shipped_spec()
    reused, cleared = WorkerPool(spec, reuse_prefix=True), WorkerPool(spec, reuse_prefix=False)
    try:
        batch = [reused.submit(t) for t in templates]  # queued together: sent in batches
        one_by_one = [cleared.submit(t).result(30) for t in templates]  # type: ignore[union-attr]
        assert [f.result(30) for f in batch] == one_by_one  # type: ignore[union-attr]
    finally:
        reused.close()
        cleared.close()


def test_model_labels_carry_the_template_id_of_their_line(model: Classifier) -> None:
    """The model answers per template; the cached label names that template."""
    line = b"kernel: [ 12.345] eth0: link up, 1000 Mbps, full duplex"
    label = model.label(line)
    assert label.template_id == template_id(mask(line))


def test_a_model_error_for_a_line_stating_no_failure_is_sealed_normal() -> None:
    """The model's `error` stands only when the line's own words say something failed."""
    from agent.classify._pool import WorkerPool
    from agent.classify._template import mask

    routine, failing = b"fresh line in new file", b"worker 3: connection reset by peer: error"
    pool = WorkerPool(shipped_spec())
    try:  # precondition: the model alone calls both lines `error`
        raw = [pool.submit(mask(line)).result(30) for line in (routine, failing)]  # type: ignore[union-attr]
    finally:
        pool.close()
    assert [shipped_spec().categories[index] for index, _ in raw] == ["error", "error"]
    c = Classifier(ClassifyConfig(default_rules=False, cache_persist=False,
                                  model_min_confidence=0.0, max_wait_ms=30_000))
    try:
        labels = c.label_many([routine, failing])
        assert [(x.category, x.layer) for x in labels] == [("normal", LAYER_MODEL),
                                                           ("error", LAYER_MODEL)]
        assert c.statistics().model_vetoed == 1
    finally:
        c.close()


def test_a_crash_line_is_decided_by_the_rules_without_asking_the_model() -> None:
    """`generating core.2275` masks to `generating #`, which the model reads as routine."""
    c = Classifier(ClassifyConfig(cache_persist=False))
    try:
        label = c.label(b"- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO "
                        b"generating core.2275")
        assert (label.category, label.layer) == ("error", LAYER_RULES)
        assert c.statistics().model_answers == 0
    finally:
        c.close()


def test_an_unsure_answer_gives_way_to_the_rules_judged_on_the_line_not_the_template() -> None:
    """Masking removes `status=1/FAILURE`; the rules' fallback label still sees it."""
    c = Classifier(ClassifyConfig(cache_persist=False, model_min_confidence=1.01,
                                  max_wait_ms=30_000))
    try:
        label = c.label(b"systemd[1]: nginx.service: Main process exited, code=exited, "
                        b"status=1/FAILURE")
    finally:
        c.close()
    assert (label.category, label.layer) == ("error", LAYER_RULES)
