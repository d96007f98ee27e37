"""verify: check whole logs — a collector's store, an agent's spool, or a live collector."""

from agent.verify._verify import VerifyReport, verify_remote, verify_spool, verify_store

__all__ = ["VerifyReport", "verify_remote", "verify_spool", "verify_store"]
