"""flowdoc.Version: the one SemVer 2.0 parse and order every stage uses."""

from __future__ import annotations

from itertools import pairwise

import pytest

from flowdoc import Version
from flowdoc.diff.check import actual_bump, next_version


def test_parse_parts_prerelease_and_build():
    v = Version.parse("1.22.3-rc.1+build.7")
    assert (v.major, v.minor, v.patch) == (1, 22, 3)
    assert v.prerelease == "rc.1" and v.build == "build.7" and v.is_prerelease
    plain = Version.parse("0.1.0")
    assert plain.prerelease is None and plain.build is None and not plain.is_prerelease
    assert Version.parse("1.0.0+exp.sha.5114f85").build == "exp.sha.5114f85"
    assert str(v) == "1.22.3-rc.1+build.7"


@pytest.mark.parametrize("text", ["", "1", "1.0", "01.0.0", "1.02.0", "1.0.0-", "1.0.0+", "1.0.0-rc+", "v1.0.0",
                                  "1.0.0 ", "1.0.0-rc_1", "-1.0.0"])
def test_not_semver(text):
    with pytest.raises(ValueError, match="not a semantic version"):
        Version.parse(text)
    assert Version.of(text) is None


def test_total_order_is_semver_precedence():
    spec = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"]
    parsed = [Version.parse(s) for s in spec]
    assert sorted(reversed(parsed)) == parsed
    assert all(a < b and b > a and a <= b and not a >= b for a, b in pairwise(parsed))
    # build metadata does not take part in precedence
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b")
    assert hash(Version.parse("1.0.0+a")) == hash(Version.parse("1.0.0"))
    # no version (or not SemVer) sorts first, with Version.key
    assert sorted(["2.0.0", None, "1.0.0"], key=Version.key) == [None, "1.0.0", "2.0.0"]


def test_bump_classification():
    v = Version.parse
    assert v("1.2.3").bump_to(v("2.0.0")) == "major"
    assert v("1.2.3").bump_to(v("1.3.0")) == "minor"
    assert v("1.2.3").bump_to(v("1.2.4")) == "patch"
    assert v("1.2.3-rc.1").bump_to(v("1.2.3-rc.2")) == "prerelease"
    assert v("1.2.3").bump_to(v("1.2.3+other")) == "none"
    assert v("1.2.3").bump_to(v("1.2.2")) == "decrease"
    assert v("1.2.3").satisfies(v("2.0.0"), "major") and not v("1.2.3").satisfies(v("1.3.0"), "major")
    assert v("0.2.3").satisfies(v("0.3.0"), "major")  # below 1.0.0 one level less will do
    assert v("1.0.0-rc.1").satisfies(v("1.0.0-rc.2"), "major")  # from a pre-release anything later
    assert not v("1.0.0").satisfies(v("1.0.0"), "patch")
    assert str(v("1.2.3").next("minor")) == "1.3.0" and str(v("0.2.3").next("major")) == "0.3.0"
    assert str(v("1.0.0-rc.1").next("major")) == "1.0.0" and str(v("1.2.3").next("patch")) == "1.2.4"
    # the diff/check helpers are the same rules
    assert actual_bump("1.2.3", "1.2.4") == "patch" and next_version("", "minor") == "1.0.0"


def test_long_numbers_order_without_int():
    big = "9" * 5000
    assert Version.parse(f"1.0.0-{big}") > Version.parse(f"1.0.0-{big[:-1]}")
    assert Version.parse(f"{big}.0.0") > Version.parse(f"{big[:-1]}.9.9")
    assert Version.parse("1.0.0-rc.010") == Version.parse("1.0.0-rc.10")
