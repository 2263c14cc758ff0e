"""The flow stages of ``flowdoc build`` (:mod:`.site`): check the flows (:mod:`.flowrecs`), render
the pages of the flows whose key changed and the index, and expand the ```flowdoc fences of the
MkDocs project's pages. Each reads and makes only what changed since the last good build."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..diagnostics import Diagnostic
from .cache import Manifest, digest, flow_key
from .flowrecs import Checked, FlowStub, check_flows
from .layout import FlowVersions
from .pages import FlowSite

if TYPE_CHECKING:
    from .site import _Inputs, _Job, _Tree

__all__ = ["Pages", "load_flows", "render", "user_page"]


@dataclass
class Pages:
    """The generated pages: flow id -> {"key", "pages": {src_uri: sha256}}, the index, and what to write."""

    ids: dict[str, dict] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)
    writes: dict[str, bytes] = field(default_factory=dict)

    def uris(self) -> dict[str, str]:
        """Every generated page -> its sha256."""
        out = dict(self.index)
        for rec in self.ids.values():
            out.update(rec["pages"])
        return out


def load_flows(job: _Job, inputs: _Inputs) -> FlowSite:
    """Check the flows (only when a page must be made from them): the files that changed since the
    last build, and those their change can affect; the others are known from their records
    (:mod:`.flowrecs`)."""
    job.rep.stage("Checking flows")
    t = time.perf_counter()
    site = FlowSite([], prefix=job.settings.prefix, versions=job.settings.versions, templates_dir=job.templates_dir,
                    work_dir=job.cache / "work", proofs=inputs.proofs)

    def render_one(fv: FlowVersions) -> list[tuple[str, str]]:
        return [(p.src_uri, p.content) for p in site.pages_of(fv)]

    checked = check_flows(job.flows_dir, inputs.catalog.files, inputs.file_hashes, inputs.manifest.flows,
                          proofs=inputs.proofs is not None, render=render_one if inputs.history is None else None,
                          progress=job.rep)
    inputs.checked = checked
    job.result.flows_checked = checked.checked
    published: list = list(checked.flows)
    sources: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    if inputs.history is not None:
        found = inputs.history.load(checked.flows, inputs.catalog.files)  # type: ignore[arg-type]
        published += found.flows
        sources, warnings = found.sources, found.warnings
    site.set_flows(published, sources=sources, warnings=warnings, loader=checked.load)
    job.result.timings["check"] = time.perf_counter() - t  # with the pages of the flows made as they were read
    return site


def render(job: _Job, inputs: _Inputs, site: Callable[[], FlowSite]) -> Pages:
    """The generated pages: reused from the last build when their key is unchanged, else rendered."""
    res, m = job.result, inputs.manifest
    if inputs.unchanged:
        res.flows = len(m.ids)
        res.pages_reused = len(m.flow_pages)
        res.diagnostics = [Diagnostic(**d) for d in m.git_warnings]
        return Pages(ids=m.ids, index=m.index)
    fs = site()
    res.flows = len(fs.entries)
    res.diagnostics = list(fs.warnings)
    pages = Pages()
    todo: list[tuple[str, str]] = []
    for fid, fv in fs.entries.items():
        key = flow_key(inputs.env_key, fs, fid, job.flows_dir, inputs.file_hashes)
        prev = m.ids.get(fid)
        uris = job.layout.flow_uris(fv)
        if prev and prev.get("key") == key and _still_staged(job, m, prev["pages"], uris):
            pages.ids[fid] = prev
            res.pages_reused += len(uris)
        else:
            todo.append((fid, key))
    t = time.perf_counter()
    checked = inputs.checked
    assert checked is not None
    _render_flows(job, fs, todo, pages, checked)
    checked.models.clear()  # memory: what is needed again is read again
    checked.early.clear()
    _render_index(job, m, fs, pages)
    res.timings["render"] = time.perf_counter() - t
    return pages


def _still_staged(job: _Job, manifest: Manifest, prev: dict[str, str], uris: list[str]) -> bool:
    """The last build's pages of a flow are the pages it has now, and are staged as they were made."""
    return sorted(prev) == sorted(uris) and all(
        manifest.staged.get(u) == h and (job.staged_dir / u).is_file() for u, h in prev.items()
    )


def _render_flows(job: _Job, fs: FlowSite, todo: list[tuple[str, str]], pages: Pages, checked: Checked) -> None:
    """The pages of the flows in ``todo`` (made as the flow was read when they could be, see
    :mod:`.flowread`; else now)."""
    if not todo:
        return
    job.rep.start(len(todo), "Rendering flows")
    try:
        for fid, key in todo:
            made = _early_pages(fs, fid, checked)
            if made is None:
                made = [(p.src_uri, p.content) for p in fs.pages_for(fid)]
            data = {uri: content.encode("utf-8") for uri, content in made}
            pages.writes.update(data)
            pages.ids[fid] = {"key": key, "pages": {uri: digest(b) for uri, b in data.items()}}
            job.result.pages_built += len(made)
            job.result.flows_rendered += 1
            job.rep.advance()
    finally:
        job.rep.finish()


def _early_pages(fs: FlowSite, fid: str, checked: Checked) -> list[tuple[str, str]] | None:
    """The pages made as the flow was read, when they are its pages on this site: its id has that one
    version, and its pages read nothing of other flows."""
    history = fs.entries[fid].history
    if len(history) != 1 or not isinstance(history[0], FlowStub):
        return None
    made = checked.early.pop(history[0].file, None)
    stub = history[0]
    alone = not stub.requires and (stub.deprecation is None or stub.deprecation.replaced_by == fid)
    return made if alone else None


def _render_index(job: _Job, manifest: Manifest, fs: FlowSite, pages: Pages) -> None:
    index = fs.index_page()
    pages.index = {index.src_uri: index.digest}
    if manifest.index == pages.index and manifest.staged.get(index.src_uri) == index.digest:
        job.result.pages_reused += 1
    else:
        pages.writes[index.src_uri] = index.content.encode("utf-8")
        job.result.pages_built += 1


def user_page(job: _Job, inputs: _Inputs, tree: _Tree, page: tuple[str, Path], pages: Pages,
               site: Callable[[], FlowSite]) -> None:
    """A file of the project's docs folder; a page with ```flowdoc fences gets them expanded (or,
    when neither it nor the flows it embeds changed, keeps its staged expansion)."""
    uri, path = page
    data = path.read_bytes()
    m = inputs.manifest
    if uri.endswith(".md") and b"flowdoc" in data:
        src_hash = digest(data)
        tree.user_src[uri] = src_hash
        deps = m.user_deps.get(uri)
        if (
            deps is not None
            and m.user_src.get(uri) == src_hash
            and uri in m.staged
            and all(pages.ids.get(fid, {}).get("key") == key for fid, key in deps.items())
            and (job.staged_dir / uri).is_file()
        ):
            tree.desired[uri] = m.staged[uri]
            tree.user_deps[uri] = deps
            return
        text = data.decode("utf-8")
        used: set[str] = set()
        expanded = site().expand_embeds(text, where=str(path), used=used) if "flowdoc" in text else text
        tree.user_deps[uri] = {fid: pages.ids[fid]["key"] for fid in sorted(used)}
        data = expanded.encode("utf-8")
    tree.want(uri, data, job, m)
