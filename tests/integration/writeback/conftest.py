"""The write-back acceptance tests share the job tests' generated organisation."""

from __future__ import annotations

from job.conftest import org, org_factory

__all__ = ["org", "org_factory"]
