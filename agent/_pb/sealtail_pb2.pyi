from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Layer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAYER_NONE: _ClassVar[Layer]
    LAYER_RULES: _ClassVar[Layer]
    LAYER_MODEL: _ClassVar[Layer]
    LAYER_FALLBACK: _ClassVar[Layer]

class EntryFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLAG_NONE: _ClassVar[EntryFlag]
    FLAG_PARTIAL: _ClassVar[EntryFlag]
    FLAG_TRUNCATED: _ClassVar[EntryFlag]
    FLAG_CONTINUED: _ClassVar[EntryFlag]

class AckStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_STORED: _ClassVar[AckStatus]
    ACK_DUPLICATE: _ClassVar[AckStatus]
    ACK_REFUSED: _ClassVar[AckStatus]
LAYER_NONE: Layer
LAYER_RULES: Layer
LAYER_MODEL: Layer
LAYER_FALLBACK: Layer
FLAG_NONE: EntryFlag
FLAG_PARTIAL: EntryFlag
FLAG_TRUNCATED: EntryFlag
FLAG_CONTINUED: EntryFlag
ACK_STORED: AckStatus
ACK_DUPLICATE: AckStatus
ACK_REFUSED: AckStatus

class Entry(_message.Message):
    __slots__ = ("line", "source", "offset", "time_ns", "category", "confidence", "layer", "flags", "original_length", "template_id")
    LINE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_LENGTH_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    line: bytes
    source: int
    offset: int
    time_ns: int
    category: str
    confidence: float
    layer: Layer
    flags: int
    original_length: int
    template_id: bytes
    def __init__(self, line: _Optional[bytes] = ..., source: _Optional[int] = ..., offset: _Optional[int] = ..., time_ns: _Optional[int] = ..., category: _Optional[str] = ..., confidence: _Optional[float] = ..., layer: _Optional[_Union[Layer, str]] = ..., flags: _Optional[int] = ..., original_length: _Optional[int] = ..., template_id: _Optional[bytes] = ...) -> None: ...

class SourceCursor(_message.Message):
    __slots__ = ("path", "device", "inode", "fingerprint", "fingerprint_length", "offset", "before_hash", "before_length", "mid_line")
    PATH_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    INODE_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    BEFORE_HASH_FIELD_NUMBER: _ClassVar[int]
    BEFORE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MID_LINE_FIELD_NUMBER: _ClassVar[int]
    path: str
    device: int
    inode: int
    fingerprint: bytes
    fingerprint_length: int
    offset: int
    before_hash: bytes
    before_length: int
    mid_line: bool
    def __init__(self, path: _Optional[str] = ..., device: _Optional[int] = ..., inode: _Optional[int] = ..., fingerprint: _Optional[bytes] = ..., fingerprint_length: _Optional[int] = ..., offset: _Optional[int] = ..., before_hash: _Optional[bytes] = ..., before_length: _Optional[int] = ..., mid_line: _Optional[bool] = ...) -> None: ...

class SegmentHeader(_message.Message):
    __slots__ = ("version", "agent_name", "agent_key", "boot_id", "seq", "prev_hash", "root", "count", "t_first_ns", "t_last_ns", "sources", "lines_before")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    ROOT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    T_FIRST_NS_FIELD_NUMBER: _ClassVar[int]
    T_LAST_NS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    LINES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    version: int
    agent_name: str
    agent_key: bytes
    boot_id: bytes
    seq: int
    prev_hash: bytes
    root: bytes
    count: int
    t_first_ns: int
    t_last_ns: int
    sources: _containers.RepeatedCompositeFieldContainer[SourceCursor]
    lines_before: int
    def __init__(self, version: _Optional[int] = ..., agent_name: _Optional[str] = ..., agent_key: _Optional[bytes] = ..., boot_id: _Optional[bytes] = ..., seq: _Optional[int] = ..., prev_hash: _Optional[bytes] = ..., root: _Optional[bytes] = ..., count: _Optional[int] = ..., t_first_ns: _Optional[int] = ..., t_last_ns: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[SourceCursor, _Mapping]]] = ..., lines_before: _Optional[int] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("header", "signature", "entries", "entries_zstd")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_ZSTD_FIELD_NUMBER: _ClassVar[int]
    header: bytes
    signature: bytes
    entries: _containers.RepeatedScalarFieldContainer[bytes]
    entries_zstd: bytes
    def __init__(self, header: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., entries: _Optional[_Iterable[bytes]] = ..., entries_zstd: _Optional[bytes] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("seq", "status", "code", "message", "leaf_index", "retryable", "checkpoint", "inclusion")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_FIELD_NUMBER: _ClassVar[int]
    seq: int
    status: AckStatus
    code: str
    message: str
    leaf_index: int
    retryable: bool
    checkpoint: bytes
    inclusion: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, seq: _Optional[int] = ..., status: _Optional[_Union[AckStatus, str]] = ..., code: _Optional[str] = ..., message: _Optional[str] = ..., leaf_index: _Optional[int] = ..., retryable: _Optional[bool] = ..., checkpoint: _Optional[bytes] = ..., inclusion: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ChainHeadRequest(_message.Message):
    __slots__ = ("agent_key",)
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    agent_key: bytes
    def __init__(self, agent_key: _Optional[bytes] = ...) -> None: ...

class ChainHeadResponse(_message.Message):
    __slots__ = ("found", "next_seq", "last_hash", "lines_total")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    NEXT_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    LINES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    found: bool
    next_seq: int
    last_hash: bytes
    lines_total: int
    def __init__(self, found: _Optional[bool] = ..., next_seq: _Optional[int] = ..., last_hash: _Optional[bytes] = ..., lines_total: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("agent", "category", "contains", "since_ns", "until_ns", "limit", "count_only")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    SINCE_NS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_NS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    COUNT_ONLY_FIELD_NUMBER: _ClassVar[int]
    agent: str
    category: str
    contains: bytes
    since_ns: int
    until_ns: int
    limit: int
    count_only: bool
    def __init__(self, agent: _Optional[str] = ..., category: _Optional[str] = ..., contains: _Optional[bytes] = ..., since_ns: _Optional[int] = ..., until_ns: _Optional[int] = ..., limit: _Optional[int] = ..., count_only: _Optional[bool] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ("agent", "agent_key", "seq", "index", "source", "entry")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    agent: str
    agent_key: bytes
    seq: int
    index: int
    source: str
    entry: bytes
    def __init__(self, agent: _Optional[str] = ..., agent_key: _Optional[bytes] = ..., seq: _Optional[int] = ..., index: _Optional[int] = ..., source: _Optional[str] = ..., entry: _Optional[bytes] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "count")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    count: int
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class SegmentsRequest(_message.Message):
    __slots__ = ("agent", "agent_key", "headers_only")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    HEADERS_ONLY_FIELD_NUMBER: _ClassVar[int]
    agent: str
    agent_key: bytes
    headers_only: bool
    def __init__(self, agent: _Optional[str] = ..., agent_key: _Optional[bytes] = ..., headers_only: _Optional[bool] = ...) -> None: ...

class StoredSegment(_message.Message):
    __slots__ = ("segment", "leaf_index")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    leaf_index: int
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ..., leaf_index: _Optional[int] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("name", "key", "segments", "entries", "last_seq")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    name: str
    key: bytes
    segments: int
    entries: int
    last_seq: int
    def __init__(self, name: _Optional[str] = ..., key: _Optional[bytes] = ..., segments: _Optional[int] = ..., entries: _Optional[int] = ..., last_seq: _Optional[int] = ...) -> None: ...

class AgentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ...) -> None: ...

class CheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckpointResponse(_message.Message):
    __slots__ = ("checkpoint", "vkey")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    VKEY_FIELD_NUMBER: _ClassVar[int]
    checkpoint: bytes
    vkey: str
    def __init__(self, checkpoint: _Optional[bytes] = ..., vkey: _Optional[str] = ...) -> None: ...

class InclusionRequest(_message.Message):
    __slots__ = ("agent", "seq", "index", "agent_key")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    agent: str
    seq: int
    index: int
    agent_key: bytes
    def __init__(self, agent: _Optional[str] = ..., seq: _Optional[int] = ..., index: _Optional[int] = ..., agent_key: _Optional[bytes] = ...) -> None: ...

class InclusionResponse(_message.Message):
    __slots__ = ("entry", "index", "header", "signature", "line_proof", "leaf_index", "log_proof", "checkpoint")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    LINE_PROOF_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    LOG_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entry: bytes
    index: int
    header: bytes
    signature: bytes
    line_proof: _containers.RepeatedScalarFieldContainer[bytes]
    leaf_index: int
    log_proof: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: bytes
    def __init__(self, entry: _Optional[bytes] = ..., index: _Optional[int] = ..., header: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., line_proof: _Optional[_Iterable[bytes]] = ..., leaf_index: _Optional[int] = ..., log_proof: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[bytes] = ...) -> None: ...

class ConsistencyRequest(_message.Message):
    __slots__ = ("size1", "size2")
    SIZE1_FIELD_NUMBER: _ClassVar[int]
    SIZE2_FIELD_NUMBER: _ClassVar[int]
    size1: int
    size2: int
    def __init__(self, size1: _Optional[int] = ..., size2: _Optional[int] = ...) -> None: ...

class ConsistencyResponse(_message.Message):
    __slots__ = ("proof", "size2", "checkpoint")
    PROOF_FIELD_NUMBER: _ClassVar[int]
    SIZE2_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    size2: int
    checkpoint: bytes
    def __init__(self, proof: _Optional[_Iterable[bytes]] = ..., size2: _Optional[int] = ..., checkpoint: _Optional[bytes] = ...) -> None: ...

class EquivocationsRequest(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: str
    def __init__(self, agent: _Optional[str] = ...) -> None: ...

class Equivocation(_message.Message):
    __slots__ = ("agent", "agent_key", "seq", "stored_header", "stored_signature", "header", "signature", "received_ns")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    AGENT_KEY_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STORED_HEADER_FIELD_NUMBER: _ClassVar[int]
    STORED_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_NS_FIELD_NUMBER: _ClassVar[int]
    agent: str
    agent_key: bytes
    seq: int
    stored_header: bytes
    stored_signature: bytes
    header: bytes
    signature: bytes
    received_ns: int
    def __init__(self, agent: _Optional[str] = ..., agent_key: _Optional[bytes] = ..., seq: _Optional[int] = ..., stored_header: _Optional[bytes] = ..., stored_signature: _Optional[bytes] = ..., header: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., received_ns: _Optional[int] = ...) -> None: ...
