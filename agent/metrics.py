"""Prometheus metrics, built at scrape time from each stage's `statistics()`.

No counter is threaded through the stages: a custom collector reads the frozen statistics
records when Prometheus scrapes (on the event loop, so every record is consistent with the
loop's state). Names follow ``sealtail_<stage>_<noun>_<unit>_total`` for counters; gauges drop
``_total``. Counters count since the process started (Prometheus handles resets).

Agent::

    sealtail_tail_lines_total, sealtail_tail_read_bytes_total, sealtail_tail_files_open,
    sealtail_tail_files_waiting,
    sealtail_tail_rotations_total, sealtail_tail_truncations_total,
    sealtail_tail_truncated_lines_total, sealtail_tail_nul_skipped_bytes_total,
    sealtail_tail_copy_skipped_bytes_total, sealtail_tail_unread_dropped_bytes_total
    sealtail_classify_lines_total{category}, sealtail_classify_cache_hits_total,
    sealtail_classify_cache_misses_total, sealtail_classify_cache_hit_ratio,
    sealtail_classify_model_latency_seconds (summary: count, sum),
    sealtail_classify_templates_cached
    sealtail_seal_segments_total, sealtail_seal_lines_total
    sealtail_spool_segments, sealtail_spool_bytes, sealtail_spool_quarantined_segments_total,
    sealtail_spool_oldest_unacknowledged_age_seconds
    sealtail_ship_segments_sent_total, sealtail_ship_segments_acknowledged_total,
    sealtail_ship_lines_acknowledged_total, sealtail_ship_reconnects_total,
    sealtail_ship_refusals_total, sealtail_ship_inconsistent_history_total,
    sealtail_ship_connected,
    sealtail_ship_last_acknowledgement_timestamp_seconds
    sealtail_agent_healthy, sealtail_agent_reloads_total{result}

Collector::

    sealtail_ingest_segments_stored_total, sealtail_ingest_segments_duplicate_total,
    sealtail_ingest_refusals_total{reason}, sealtail_ingest_equivocations_total,
    sealtail_log_tree_size, sealtail_log_checkpoints_signed_total
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from agent.classify import Classifier
from agent.errors import ErrorCode
from agent.health import Health, ShipWatch
from agent.seal import Sealer
from agent.ship import Shipper
from agent.spool import Spool
from agent.tail import Tailer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


@dataclass
class AgentStages:
    """What the agent's metrics read. `classifiers` lists every classifier this process has
    used (a reload replaces the last); their counts add up."""

    tailer: Tailer
    classifiers: Sequence[Classifier]
    sealer: Sealer
    spool: Spool
    shipper: Shipper
    watch: ShipWatch
    reloads: Callable[[], dict[str, int]]
    health: Callable[[], Health] | None = None  # the agent's verdict (default: watch.health)


class AgentMetrics(Collector):
    def __init__(self, stages: AgentStages) -> None:
        self._s = stages

    def collect(self) -> Iterator[Any]:
        s = self._s
        t = s.tailer.statistics()
        yield _counter("sealtail_tail_lines", "Lines read from files.", t.lines_read)
        yield _counter("sealtail_tail_read_bytes", "Bytes read from files.", t.bytes_read)
        yield _gauge("sealtail_tail_files_open", "Files held open.", t.files_open)
        yield _gauge("sealtail_tail_files_waiting",
                     "Matched files waiting for a slot (tail.max_open_files).", t.files_waiting)
        yield _counter("sealtail_tail_rotations", "Files rotated away or deleted while tailed.",
                       t.rotations)
        yield _counter("sealtail_tail_truncations", "Files truncated or rewritten in place.",
                       t.truncations)
        yield _counter("sealtail_tail_truncated_lines",
                       "Lines longer than tail.max_line_bytes, truncated and flagged.",
                       t.truncated_lines)
        yield _counter("sealtail_tail_nul_skipped_bytes",
                       "NUL bytes skipped after a truncation.", t.nul_bytes_skipped)
        yield _counter("sealtail_tail_copy_skipped_bytes",
                       "Bytes of copies (copytruncate) not read twice.", t.copies_skipped_bytes)
        yield _counter("sealtail_tail_unread_dropped_bytes",
                       "Bytes never read: rotated files held too long "
                       "(tail.max_rotated_open_secs), files deleted while waiting for a slot "
                       "(tail.max_open_files).",
                       t.unread_bytes_dropped)

        by_category = CounterMetricFamily("sealtail_classify_lines",
                                          "Lines classified, by category.", labels=["category"])
        totals: dict[str, int] = {}
        hits = misses = cached = timed = 0
        latency = 0.0
        for classifier in s.classifiers:
            c = classifier.statistics()
            timed += c.model_latency_count
            latency += c.model_latency_sum_secs
            for category, n in c.by_category.items():
                totals[category] = totals.get(category, 0) + n
            hits += c.cache_hits
            misses += c.cache_misses
            cached = c.templates_cached  # the current classifier's cache
        for category in sorted(totals):
            by_category.add_metric([category], totals[category])
        yield by_category
        yield _counter("sealtail_classify_cache_hits", "Template cache hits.", hits)
        yield _counter("sealtail_classify_cache_misses", "Template cache misses.", misses)
        yield _gauge("sealtail_classify_cache_hit_ratio",
                     "Template cache hits / lookups since start (0 before any lookup).",
                     hits / (hits + misses) if hits + misses else 0.0)
        yield _gauge("sealtail_classify_templates_cached", "Templates in the cache.", cached)
        model_latency = SummaryMetricFamily(
            "sealtail_classify_model_latency_seconds",
            "Time from asking the model about a new template to its answer.",
            count_value=timed, sum_value=latency)
        yield model_latency

        seal = s.sealer.statistics()
        yield _counter("sealtail_seal_segments", "Segments sealed.", seal.segments)
        yield _counter("sealtail_seal_lines", "Lines sealed into segments.", seal.lines)

        sp = s.spool.statistics()
        w = s.watch.statistics()
        yield _gauge("sealtail_spool_segments", "Segments waiting for acknowledgement.",
                     sp.segments)
        yield _gauge("sealtail_spool_bytes", "Bytes of segments in the spool.", sp.bytes)
        yield _counter("sealtail_spool_quarantined_segments",
                       "Spool files set aside as torn or corrupt.", sp.quarantined)
        yield _gauge("sealtail_spool_oldest_unacknowledged_age_seconds",
                     "Age of the oldest segment not yet acknowledged (0 when none).",
                     w.oldest_unacknowledged_age_secs)

        sh = s.shipper.statistics()
        yield _counter("sealtail_ship_segments_sent", "Segments sent (re-sends included).",
                       sh.segments_sent)
        yield _counter("sealtail_ship_segments_acknowledged",
                       "Segments the collector acknowledged as stored.", sh.segments_acked)
        yield _counter("sealtail_ship_lines_acknowledged",
                       "Lines in segments acknowledged as stored.", w.lines_acknowledged)
        yield _counter("sealtail_ship_reconnects", "Reconnections to the collector.",
                       sh.reconnects)
        yield _counter("sealtail_ship_refusals", "Segments the collector refused.",
                       sh.refusals)
        yield _counter("sealtail_ship_inconsistent_history",
                       "Ack checkpoints the collector could not prove consistent with the "
                       "agent's anchor (inconsistent_history, rollback): shipping stops.",
                       sh.history_failures)
        yield _gauge("sealtail_ship_connected", "1 while a stream to the collector is up.",
                     1 if sh.connected else 0)
        if w.last_ack_unix is not None:
            yield _gauge("sealtail_ship_last_acknowledgement_timestamp_seconds",
                         "Unix time of the last acknowledgement.", w.last_ack_unix)
        yield _gauge("sealtail_agent_healthy", "1 when /healthz passes.",
                     1 if (s.health or s.watch.health)().healthy else 0)
        reloads = CounterMetricFamily("sealtail_agent_reloads", "Config reloads, by result.",
                                      labels=["result"])
        for result, n in sorted(s.reloads().items()):
            reloads.add_metric([result], n)
        yield reloads


class CollectorMetrics(Collector):
    """The collector's counters: ingest results, refusals by reason, the signed log."""

    def __init__(self, ingest: Any, store: Any, checkpoints: Any) -> None:
        self._ingest = ingest
        self._store = store
        self._checkpoints = checkpoints

    def collect(self) -> Iterable[Any]:
        st = self._ingest.stats
        yield _counter("sealtail_ingest_segments_stored", "Segments verified and stored.",
                       st.stored)
        yield _counter("sealtail_ingest_segments_duplicate",
                       "Segments received again and acknowledged as already stored.",
                       st.duplicates)
        refusals = CounterMetricFamily("sealtail_ingest_refusals", "Segments refused, by reason.",
                                       labels=["reason"])
        for reason, n in sorted(st.refused.items()):
            refusals.add_metric([str(reason)], n)
        yield refusals
        yield _counter("sealtail_ingest_equivocations",
                       "Same (agent, seq) offered with other bytes (refused, kept as evidence).",
                       st.refused.get(ErrorCode.EQUIVOCATION, 0))
        yield _gauge("sealtail_log_tree_size", "Leaves of the collector-wide log.",
                     self._store.log.size)
        yield _counter("sealtail_log_checkpoints_signed",
                       "Checkpoints signed since start.", self._checkpoints.signed)


def registry_of(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text format Prometheus scrapes."""
    return generate_latest(registry)
