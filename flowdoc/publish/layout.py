"""Versions of a flow and the URLs of a site's pages (see :mod:`.pages` for the layout).

:class:`FlowVersions` holds every version of one flow id, oldest first; :class:`Layout` gives the
docs path of each page; :func:`relative` links one page to another.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from ..diff.versions import changelog_entries, flow_history
from ..model.flow import Flow
from ..model.version import Version

__all__ = ["FlowVersions", "Layout", "changelog_for", "group_versions", "major_of", "relative", "status_of"]


# ------------------------------------------------------------------- versions

def major_of(flow: "Flow") -> int | None:
    v = Version.of(flow.version)
    return v.major if v is not None else None


def status_of(flow: "Flow") -> str:
    return str(getattr(flow.status, "value", flow.status))


@dataclass
class FlowVersions:
    """Every version of one flow id, oldest first."""

    id: str
    history: list["Flow"]

    @property
    def latest(self) -> "Flow":
        return self.history[-1]

    def majors(self) -> list[tuple[int, "Flow"]]:
        """(major, newest flow of that major), newest major first."""
        best: dict[int, Flow] = {}
        for f in self.history:
            m = major_of(f)
            if m is not None and (m not in best or Version.key(f.version) >= Version.key(best[m].version)):
                best[m] = f
        return sorted(best.items(), key=lambda kv: kv[0], reverse=True)

    def find(self, spec: Any) -> "Flow | None":
        """``latest``, a major (``2``, ``v2``), or an exact version (``2.0.0``)."""
        if spec is None:
            return self.latest
        s = str(spec).strip()
        if s in ("", "latest"):
            return self.latest
        for f in self.history:
            if f.version == s:
                return f
        m = re.fullmatch(r"v?(\d+)(?:\.x)?", s)
        if m:
            return dict(self.majors()).get(int(m.group(1)))
        m = re.fullmatch(r"v?(\d+)\.(\d+)", s)
        if m:
            cands = [f for f in self.history if (f.version or "").startswith(f"{m.group(1)}.{m.group(2)}.")]
            return cands[-1] if cands else None
        return None

    def files(self) -> list[str]:
        return sorted(f.file for f in self.history)


def group_versions(flows: list["Flow"]) -> dict[str, FlowVersions]:
    """Group flows by id, each oldest first."""
    return {fid: FlowVersions(fid, list(lst)) for fid, lst in sorted(flow_history(flows).items())}


def changelog_for(fv: FlowVersions) -> list[dict[str, Any]]:
    """Merged changelog of a flow (newest first): authors' notes and the generated changes."""
    return list(changelog_entries(fv.history))


# --------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    prefix: str = ""
    versions: bool = True

    def _p(self, *parts: str) -> str:
        pre = self.prefix.strip("/")
        return "/".join([pre, *parts] if pre else parts)

    @property
    def index(self) -> str:
        return self._p("index.md")

    def latest(self, fid: str) -> str:
        return self._p(fid, "latest.md") if self.versions else self._p(fid, "index.md")

    def version(self, fid: str, major: int) -> str:
        return self._p(fid, f"v{major}.md")

    def changelog(self, fid: str) -> str:
        return self._p(fid, "changelog.md")

    def flow_uris(self, fv: FlowVersions) -> list[str]:
        if not self.versions:
            return [self.latest(fv.id)]
        return [self.latest(fv.id), *(self.version(fv.id, m) for m, _ in fv.majors()), self.changelog(fv.id)]


def relative(from_uri: str, to_uri: str) -> str:
    """A relative link from one docs page to another (MkDocs resolves ``.md`` links)."""
    return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")
