"""Errors raised by sealtail, one tree with stable codes.

::

    SealtailError              .code (ErrorCode), .message
    ├── ConfigError            .file, .key      bad or missing configuration
    ├── KeyFileError                            a key file is missing, malformed or too open
    ├── TailError                               a watched file could not be read
    ├── ModelError                              the classifier model is missing, corrupt or unusable
    ├── SpoolError                              the on-disk spool is unusable
    ├── ShipError
    │   ├── CollectorUnavailable                network/collector down: retried
    │   └── CollectorRejected                   the collector refused a segment
    ├── StoreError                              the collector's store failed
    ├── VerificationError      .agent, .seq, .line   a verifier found the log altered
    └── SummaryFormatError                      a JSON summary is malformed or of another version

Codes are added but never renamed: they appear in `sealtail verify --json`, in gRPC
acknowledgements and in metric labels.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # configuration and local files
    CONFIG_INVALID = "config_invalid"
    KEY_FILE_INVALID = "key_file_invalid"
    KEY_FILE_PERMISSIONS = "key_file_permissions"
    TAIL_READ_FAILED = "tail_read_failed"
    SPOOL_CORRUPT = "spool_corrupt"
    SPOOL_IO = "spool_io"
    MODEL_INVALID = "model_invalid"
    # shipping / ingest
    COLLECTOR_UNAVAILABLE = "collector_unavailable"
    UNKNOWN_KEY = "unknown_key"
    MALFORMED_SEGMENT = "malformed_segment"
    TOO_LARGE = "too_large"
    STORE_FAILED = "store_failed"
    OVERLOADED = "overloaded"
    LISTEN_FAILED = "listen_failed"
    DATA_DIR_IN_USE = "data_dir_in_use"
    STATE_DIR_IN_USE = "state_dir_in_use"
    # verification
    PARSE_ERROR = "parse_error"
    BAD_VERSION = "bad_version"
    BAD_SIGNATURE = "bad_signature"
    LEAF_MISMATCH = "leaf_mismatch"
    ROOT_MISMATCH = "root_mismatch"
    COUNT_MISMATCH = "count_mismatch"
    LINE_GAP = "line_gap"
    CHAIN_GAP = "chain_gap"
    CHAIN_BROKEN = "chain_broken"
    SEQ_REGRESSION = "seq_regression"
    SEQ_MISMATCH = "seq_mismatch"
    EQUIVOCATION = "equivocation"
    TIME_OUT_OF_RANGE = "time_out_of_range"
    BAD_SOURCE = "bad_source"
    KEY_MISMATCH = "key_mismatch"
    INDEX_MISMATCH = "index_mismatch"
    AGGREGATE_MISMATCH = "aggregate_mismatch"  # a store's aggregates disagree with its lines
    BAD_PROOF = "bad_proof"
    NO_SEGMENTS = "no_segments"  # nothing to verify (empty store, agent filter matching none)
    # signed notes, checkpoints and the collector-wide log
    MALFORMED_NOTE = "malformed_note"
    UNKNOWN_SIGNER = "unknown_signer"
    MALFORMED_CHECKPOINT = "malformed_checkpoint"
    ORIGIN_MISMATCH = "origin_mismatch"
    ROLLBACK = "rollback"
    INCONSISTENT_HISTORY = "inconsistent_history"
    MALFORMED_BUNDLE = "malformed_bundle"
    # access control
    UNAUTHENTICATED = "unauthenticated"
    # answers of a reachable collector to a query
    NOT_FOUND = "not_found"              # no such segment or line
    INVALID_REQUEST = "invalid_request"  # the collector refused the request's arguments
    NAME_TAKEN = "name_taken"
    BAD_AGENT_NAME = "bad_agent_name"
    # insights
    MALFORMED_SUMMARY = "malformed_summary"


class SealtailError(Exception):
    """Root of every error sealtail raises on purpose."""

    code: ErrorCode = ErrorCode.CONFIG_INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class ConfigError(SealtailError):
    """A configuration file or option is invalid; names the file and key."""

    code = ErrorCode.CONFIG_INVALID

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        where = ": ".join(x for x in (file, key) if x)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.key = key


class KeyFileError(SealtailError):
    """A key file is missing, malformed, or readable by group/others."""

    code = ErrorCode.KEY_FILE_INVALID


class TailError(SealtailError):
    code = ErrorCode.TAIL_READ_FAILED


class ModelError(SealtailError):
    """The classifier model file is missing, corrupt, of the wrong hash, or will not load."""

    code = ErrorCode.MODEL_INVALID


class SpoolError(SealtailError):
    code = ErrorCode.SPOOL_IO


class ShipError(SealtailError):
    code = ErrorCode.COLLECTOR_UNAVAILABLE


class CollectorUnavailable(ShipError):
    code = ErrorCode.COLLECTOR_UNAVAILABLE


class CollectorRejected(ShipError):
    """The collector refused a segment; `code` is the collector's own ErrorCode and
    `retryable` says whether the same segment may pass later without an operator."""

    code = ErrorCode.MALFORMED_SEGMENT

    def __init__(self, message: str, *, code: ErrorCode | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


class StoreError(SealtailError):
    code = ErrorCode.STORE_FAILED


class VerificationError(SealtailError):
    """The log does not verify. `agent`, `seq` and `line` name the place (None when unknown)."""

    code = ErrorCode.PARSE_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode,
        agent: str | None = None,
        seq: int | None = None,
        line: int | None = None,
    ) -> None:
        place = []
        if agent is not None:
            place.append(f"agent={agent}")
        if seq is not None:
            place.append(f"segment seq={seq}")
        if line is not None:
            place.append(f"line {line}")
        prefix = " ".join(place)
        super().__init__(f"{prefix}: {message}" if prefix else message, code=code)
        self.agent = agent
        self.seq = seq
        self.line = line


class SummaryFormatError(SealtailError):
    """A JSON summary (`sealtail summary --json`) is malformed or of another format version;
    the message names the path of the first bad value."""

    code = ErrorCode.MALFORMED_SUMMARY
