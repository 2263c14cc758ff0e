"""The proof file: what ``flowdoc verify --proof DIR`` writes and ``flowdoc build --proofs DIR`` reads.

One JSON file per flow and version (``FLOW@VERSION.proof.json``): which flowdoc wrote it, the
flow (id, version, title and :func:`flow_digest`, a hash of its semantic content), the
environment it ran against, the date, each scenario's outcome and every exchange as it happened,
redacted: secrets, codes, cookies and verifiers are named placeholders (``«client_secret»``,
``«code»``, ``«cookie:_session»``), JWTs in answers are cut after their header
(``eyJhbGciOiJSUzI1NiIs…``). The models below are the format; ``flowdoc/data/proof.schema.json``
is their JSON Schema (:func:`proof_json_schema`, kept in step by a test).

A proof file is hostile input to the build: :func:`load_proof` bounds its size and depth,
validates it against the models (bounded strings and lists) and raises :class:`ProofError`
naming the file and the first problem. Everything in it is text to escape, never markup.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .model.flow import Flow

__all__ = [
    "FORMAT",
    "MAX_FILE",
    "PROOF_SCHEMA_ID",
    "Proof",
    "ProofError",
    "flow_digest",
    "load_proof",
    "merge_proofs",
    "proof_file_name",
    "proof_json_schema",
    "proof_json_schema_text",
    "proof_text",
    "write_proofs",
]

FORMAT: Literal[1] = 1
PROOF_SCHEMA_ID = f"https://flowdoc.dev/schema/proof-{FORMAT}.json"
#: a proof file larger than this is refused (the writer keeps them far smaller: bodies are capped)
MAX_FILE = 8 * 1024 * 1024
#: JSON nested deeper than this is refused before it is validated
MAX_DEPTH = 64

Text = Annotated[str, Field(max_length=65536)]
Short = Annotated[str, Field(max_length=1000)]
Pair = Annotated[list[Text], Field(min_length=2, max_length=2, description="[name, value]")]


def flow_digest(flow: Flow) -> str:
    """``sha256:HEX`` of the flow's model as canonical JSON: the same for the same content
    whatever the file's layout, comments, key order or quoting."""
    data = flow.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def proof_file_name(flow_id: str, version: str | None) -> str:
    """``FLOW@VERSION.proof.json`` (``FLOW.proof.json`` for a flow with no version)."""
    return f"{flow_id}@{version}.proof.json" if version else f"{flow_id}.proof.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ProofAuth(_Model):
    """HTTP Basic client authentication, decoded: the client id, and the secret as its placeholder."""

    scheme: Literal["basic"]
    username: Text
    password: Text


class ProofForm(_Model):
    """A form of an HTML page: where it posts and the names of its fields (never their values)."""

    id: Short | None = None
    method: Short = "GET"
    action: Text = ""
    fields: list[Short] = Field(default_factory=list, max_length=200)


class ProofPage(_Model):
    """An HTML page as verify read it: its title, its error texts and its forms."""

    title: Text | None = None
    errors: list[Text] = Field(default_factory=list, max_length=50)
    forms: list[ProofForm] = Field(default_factory=list, max_length=20)


class ProofBody(_Model):
    """A body: form pairs, JSON, text, or an HTML page read; ``truncated`` characters were left out."""

    kind: Literal["form", "json", "text", "html"]
    form: list[Pair] | None = Field(None, max_length=500)
    json_: Any = Field(None, alias="json")
    text: Text | None = None
    html: ProofPage | None = None
    truncated: int = Field(0, ge=0)


class ProofRequest(_Model):
    """The request as sent. ``url`` is readable (query values decoded); ``base`` and ``query`` are
    the same URL in parts. The credentials of ``Authorization: Basic`` show as
    ``base64(CLIENT_ID:«placeholder»)`` and in ``auth``."""

    method: Annotated[str, Field(max_length=32)]
    url: Text
    base: Text
    query: list[Pair] = Field(default_factory=list, max_length=500)
    headers: list[Pair] = Field(default_factory=list, max_length=200)
    auth: ProofAuth | None = None
    body: ProofBody | None = None
    follow_redirects: bool = False


class ProofHop(_Model):
    """A redirect followed before the response."""

    method: Annotated[str, Field(max_length=32)]
    url: Text
    status: int = Field(ge=100, le=999)


class ProofResponse(_Model):
    status: int = Field(ge=100, le=999)
    reason: Short = ""
    headers: list[Pair] = Field(default_factory=list, max_length=200)
    body: ProofBody | None = None
    redirects: list[ProofHop] = Field(default_factory=list, max_length=20)


class ProofExchange(_Model):
    """One request sent and what came of it. Exchanges of a required flow (``role`` ``requires
    NAME``) are kept short: request line and status."""

    transition: Short
    role: Short
    outcome: Literal["response", "timeout", "network-error"] = "response"
    ok: bool = True
    request: ProofRequest
    response: ProofResponse | None = None
    note: Text = ""


class ProofScenario(_Model):
    id: Short
    name: Short
    kind: Short
    title: Text = ""
    status: Literal["passed", "failed", "error", "skipped"]
    #: the failure branch it provokes (``TRANSITION/FAILURE``)
    branch: Short | None = None
    #: why it failed, errored or was skipped
    message: Text = ""
    exchanges: list[ProofExchange] = Field(default_factory=list, max_length=1000)


class ProofFlow(_Model):
    id: Short
    version: Short | None = None
    title: Text = ""
    hash: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class ProofSummary(_Model):
    scenarios: int = Field(ge=0)
    passed: int = Field(ge=0)
    failed: int = Field(0, ge=0)
    errors: int = Field(0, ge=0)
    skipped: int = Field(0, ge=0)


class ProofPlaceholder(_Model):
    """What a placeholder stands for: a secret ``input``, a ``generated`` value (state, PKCE), a
    ``cookie``, or a ``value`` the server handed out (a token, a code)."""

    kind: Literal["input", "generated", "cookie", "value"]
    name: Short


class Proof(_Model):
    """A proof file (format 1)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="flowdoc proof")

    schema_: Short | None = Field(None, alias="$schema")
    format: Literal[1] = FORMAT
    flowdoc: Short
    flow: ProofFlow
    environment: Annotated[str, Field(min_length=1, max_length=200)]
    date: _dt.date
    summary: ProofSummary
    scenarios: list[ProofScenario] = Field(default_factory=list, max_length=5000)
    #: each placeholder of the file (``«client_secret»``, ``«access_token#2»``) and what it stands for
    placeholders: dict[Short, ProofPlaceholder] = Field(default_factory=dict)


class ProofError(ValueError):
    """A proof file that cannot be read; the message names the file and what is wrong."""


def _depth_ok(data: Any) -> bool:
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


def _where(err: Any) -> str:
    return ".".join(str(p) for p in err.get("loc", ())) or "(top)"


def load_proof(path: str | Path) -> Proof:
    """Read and check one proof file; raise :class:`ProofError` naming it and the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise ProofError(f"{path}: not a proof file: {size} bytes, more than {MAX_FILE // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ProofError(f"{path}: cannot read the proof file: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProofError(f"{path}: not a proof file: not UTF-8") from None
    except RecursionError:
        raise ProofError(f"{path}: not a proof file: nested more than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ProofError(f"{path}: not a proof file: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProofError(f"{path}: not a proof file: the top level is not an object")
    if not _depth_ok(data):
        raise ProofError(f"{path}: not a proof file: nested more than {MAX_DEPTH} levels")
    try:
        return Proof.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        more = exc.error_count() - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        raise ProofError(f"{path}: not a valid proof file: {_where(err)}: {msg}{tail}") from None


def proof_json_schema() -> dict[str, Any]:
    schema = Proof.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": PROOF_SCHEMA_ID, **schema}


def proof_json_schema_text() -> str:
    return json.dumps(proof_json_schema(), indent=2, ensure_ascii=False) + "\n"


#: a ``[name, value]`` pair (a header, a form or query parameter) written on one line
_PAIR = re.compile(r'\[\n\s+("(?:[^"\\\n]|\\.)*"),\n\s+("(?:[^"\\\n]|\\.)*")\n\s+\]')


def proof_text(proof: Proof) -> str:
    """The file's text: sorted keys, two-space indent, one newline at the end (diffable)."""
    data = proof.model_dump(mode="json", by_alias=True, exclude_defaults=False, exclude_none=True)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return _PAIR.sub(r"[\1, \2]", text) + "\n"


def write_proofs(folder: str | Path, proofs: list[tuple[str, Proof]]) -> list[Path]:
    """Write each proof into ``folder`` atomically (a temporary file, then renamed); raise OSError."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, proof in proofs:
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(proof_text(proof))
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ merging (pytest-xdist)

#: a numbered placeholder, ``«code#3»`` (numbered per file, in order of appearance)
_NUMBERED = re.compile(r"«([^«»]{1,200}?)#(\d+)»")
_ANY_PLACEHOLDER = re.compile(r"«[^«»]{1,200}»")


def merge_proofs(parts: Sequence[Proof], order: Sequence[str] = (), keys: Sequence[Mapping[str, str]] = ()) -> Proof:
    """One proof of a flow and version from the proofs of processes that each ran some of its
    scenarios (the workers of ``pytest -n N``), as one process running them all writes it: the
    scenarios in ``order`` (scenario ids: the plan's order; others after, as they come), the
    numbered placeholders (``«code#2»``) numbered again in order of appearance in the merged file,
    the summary counted again, the latest date.

    ``keys[i]`` maps numbered placeholders of ``parts[i]`` to a fingerprint of their value (the
    same for the same value in every part; see ``ProofRecorder.proof_parts``): one value seen by
    two processes (a server's constant cookie) gets one number, as in one process. A placeholder
    without a key stands for a value of its part only.

    Raise ValueError when the parts are not of one flow (id, version and content hash) and
    environment.
    """
    if not parts:
        raise ValueError("no proofs to merge")
    first = parts[0]
    for part in parts[1:]:
        if part.flow != first.flow or part.environment != first.environment:
            raise ValueError(f"the proofs of {first.flow.id} {first.flow.version} are not of one flow content and "
                             "environment (was a flow file changed during the run?)")
    rank = {sid: i for i, sid in enumerate(order)}
    runs = sorted(((p, s) for p, part in enumerate(parts) for s in part.scenarios),
                  key=lambda ps: rank.get(ps[1].id, len(rank)))
    ident = _Identities(keys)
    scenarios = [ident.renumbered(p, s) for p, s in runs]
    statuses = [s["status"] for s in scenarios]
    summary = {"scenarios": len(statuses), "passed": statuses.count("passed"), "failed": statuses.count("failed"),
               "errors": statuses.count("error"), "skipped": statuses.count("skipped")}
    data = first.model_dump(mode="json", by_alias=True, exclude={"scenarios", "placeholders", "summary"})
    data.update(date=max(part.date for part in parts).isoformat(), summary=summary, scenarios=scenarios)
    data["placeholders"] = ident.placeholders(parts, data)
    return Proof.model_validate(data)


class _Identities:
    """The numbers of the merged file: one per value (its fingerprint, else its part and number)."""

    def __init__(self, keys: Sequence[Mapping[str, str]]) -> None:
        self.keys = keys
        self.numbers: dict[tuple[str, ...], str] = {}
        self.counts: dict[str, int] = {}

    def _identity(self, part: int, label: str, n: str) -> tuple[str, ...]:
        key = self.keys[part].get(f"«{label}#{n}»") if part < len(self.keys) else None
        return ("value", label, key) if key else ("part", str(part), label, n)

    def renumbered(self, part: int, scenario: ProofScenario) -> dict[str, Any]:
        """The scenario's data with its numbered placeholders numbered in the merged file: values
        new to it in the order their process numbered them (its order of appearance)."""
        text = json.dumps(scenario.model_dump(mode="json", by_alias=True), ensure_ascii=False)
        found = {(m.group(1), int(m.group(2))) for m in _NUMBERED.finditer(text)}
        for label, n in sorted(found, key=lambda ln: ln[1]):
            ident = self._identity(part, label, str(n))
            if ident not in self.numbers:
                self.counts[label] = self.counts.get(label, 0) + 1
                self.numbers[ident] = str(self.counts[label])
        out: dict[str, Any] = json.loads(_NUMBERED.sub(lambda m: self.placeholder(part, m.group(1), m.group(2)), text))
        return out

    def placeholder(self, part: int, label: str, n: str) -> str:
        return f"«{label}#{self.numbers[self._identity(part, label, n)]}»"

    def placeholders(self, parts: Sequence[Proof], data: dict[str, Any]) -> dict[str, Any]:
        """What each placeholder of the merged file stands for, as its process said."""
        meaning: dict[str, Any] = {}
        for p, part in enumerate(parts):
            for ph, what in part.placeholders.items():
                m = _NUMBERED.fullmatch(ph)
                if m is None:
                    meaning.setdefault(ph, what.model_dump(mode="json"))
                elif self._identity(p, m.group(1), m.group(2)) in self.numbers:
                    meaning.setdefault(self.placeholder(p, m.group(1), m.group(2)), what.model_dump(mode="json"))
        text = json.dumps(data, ensure_ascii=False)
        return {ph: meaning[ph] for ph in dict.fromkeys(_ANY_PLACEHOLDER.findall(text)) if ph in meaning}
