"""verify: whole-log verification of a store, a spool or a live collector; proof bundles."""

from agent.verify._verify import (
    Equivocation,
    LogCoverage,
    VerifyReport,
    auth_metadata,
    channel,
    fetch_bundle,
    list_equivocations,
    load_anchors,
    read_store_equivocations,
    rpc_error,
    verify_bundle_file,
    verify_remote,
    verify_spool,
    verify_store,
)

__all__ = ["Equivocation", "LogCoverage", "VerifyReport", "auth_metadata", "channel",
           "fetch_bundle", "list_equivocations", "load_anchors", "read_store_equivocations",
           "rpc_error", "verify_bundle_file", "verify_remote", "verify_spool", "verify_store"]
