"""verify: whole-log verification of a store, a spool or a live collector; proof bundles."""

from agent.verify._verify import (
    LogCoverage,
    VerifyReport,
    auth_metadata,
    channel,
    fetch_bundle,
    load_anchors,
    rpc_error,
    verify_bundle_file,
    verify_remote,
    verify_spool,
    verify_store,
)

__all__ = ["LogCoverage", "VerifyReport", "auth_metadata", "channel", "fetch_bundle",
           "load_anchors", "rpc_error", "verify_bundle_file", "verify_remote", "verify_spool",
           "verify_store"]
