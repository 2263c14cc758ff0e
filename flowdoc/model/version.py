"""Versions of flows: one SemVer 2.0 parse, one total order, the bumps between versions.

Every stage that compares versions uses :class:`Version` (the schema's ``version`` pattern is
:data:`SEMVER_PATTERN`)::

    Version.parse("1.2.0-rc.1")                # Version; ValueError when not SemVer
    Version.of(flow.version)                   # Version, or None for no version / not SemVer
    sorted(flows, key=lambda f: Version.key(f.version))   # no version sorts first
    Version.parse("1.2.0").bump_to(Version.parse("2.0.0"))  # "major"

Order is SemVer precedence: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0-rc.1 < 1.0.0 <
1.0.1 < 1.10.0; build metadata (``+build.5``) is ignored. Numbers compare as digits (their
length, then the digits), so a version of thousands of digits sorts exactly, without ``int()``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

__all__ = ["SEMVER_PATTERN", "Bump", "BumpKind", "Version"]

#: A SemVer 2.0 version (the schema's pattern for ``version``). Linear: the parts are separated
#: by characters their classes do not hold.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
_SEMVER = re.compile(SEMVER_PATTERN)

#: A bump that changes make necessary.
Bump = Literal["major", "minor", "patch"]
#: What a move from one version to another is (:meth:`Version.bump_to`).
BumpKind = Literal["major", "minor", "patch", "prerelease", "none", "decrease"]
_BUMP_RANK = {"patch": 0, "minor": 1, "major": 2}

_NONE_KEY: tuple[Any, ...] = (0, (), 0, ())


def _num_key(digits: str) -> tuple[int, str]:
    digits = digits.lstrip("0") or "0"
    return (len(digits), digits)


class Version:
    """A parsed SemVer 2.0 version, ordered by precedence."""

    __slots__ = ("text", "core", "prerelease", "build", "_key")

    def __init__(self, text: str, core: tuple[str, str, str], prerelease: str | None, build: str | None):
        self.text = text
        #: major, minor, patch as digit strings
        self.core = core
        self.prerelease = prerelease
        self.build = build
        pre: tuple[Any, ...] = ()
        if prerelease:
            pre = tuple((0, _num_key(p), "") if p.isdigit() else (1, (0, ""), p) for p in prerelease.split("."))
        self._key = (1, tuple(_num_key(x) for x in core), 0 if prerelease else 1, pre)

    # ------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: str) -> "Version":
        """The version ``text`` spells; :class:`ValueError` when it is not SemVer 2.0."""
        m = _SEMVER.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0)")
        pre, plus, build = text[m.end(3):].partition("+")
        return cls(text, (m.group(1), m.group(2), m.group(3)), pre[1:] if pre else None, build if plus else None)

    @classmethod
    def of(cls, text: "str | Version | None") -> "Version | None":
        """The version of ``text``, or None when there is none or it is not SemVer."""
        if isinstance(text, Version) or text is None:
            return text
        try:
            return cls.parse(text)
        except ValueError:
            return None

    @staticmethod
    def key(text: "str | Version | None") -> tuple[Any, ...]:
        """A sort key by precedence for any text: no version (or not SemVer) sorts first."""
        v = Version.of(text)
        return _NONE_KEY if v is None else v._key

    # ------------------------------------------------------------- parts
    @property
    def major(self) -> int:
        return int(self.core[0])

    @property
    def minor(self) -> int:
        return int(self.core[1])

    @property
    def patch(self) -> int:
        return int(self.core[2])

    @property
    def is_prerelease(self) -> bool:
        return self.prerelease is not None

    # ----------------------------------------------------------- bumps
    def bump_to(self, new: "Version") -> BumpKind:
        """What moving from this version to ``new`` is: ``major``, ``minor``, ``patch``,
        ``prerelease`` (same core, later pre-release), ``none`` or ``decrease``."""
        if new._key == self._key:
            return "none"
        if new._key < self._key:
            return "decrease"
        for name, a, b in zip(("major", "minor", "patch"), self.core, new.core, strict=True):
            if _num_key(a) != _num_key(b):
                return name  # type: ignore[return-value]
        return "prerelease"

    def satisfies(self, new: "Version", needed: Bump) -> bool:
        """Whether moving to ``new`` is the ``needed`` bump or more. Below 1.0.0 one level less
        will do (0.y.z: a minor bump may break); from a pre-release any later version will do."""
        actual = self.bump_to(new)
        if actual in ("none", "decrease"):
            return False
        if self.is_prerelease:
            return True
        if actual == "prerelease":
            return False
        rank = _BUMP_RANK[actual]
        if self.core[0] == "0":
            rank += 1
        return rank >= _BUMP_RANK[needed]

    def next(self, needed: Bump) -> "Version":
        """The smallest version after this one that makes the ``needed`` bump."""
        major, minor, patch = self.major, self.minor, self.patch
        if self.is_prerelease:
            return Version.parse(f"{major}.{minor}.{patch}")
        if major == 0 and needed != "patch":
            needed = "minor" if needed == "major" else "patch"
        if needed == "major":
            return Version.parse(f"{major + 1}.0.0")
        if needed == "minor":
            return Version.parse(f"{major}.{minor + 1}.0")
        return Version.parse(f"{major}.{minor}.{patch + 1}")

    # ------------------------------------------------------------ order
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __lt__(self, other: "Version") -> bool:
        return self._key < other._key

    def __le__(self, other: "Version") -> bool:
        return self._key <= other._key

    def __gt__(self, other: "Version") -> bool:
        return self._key > other._key

    def __ge__(self, other: "Version") -> bool:
        return self._key >= other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"
