"""Validation of ``poll`` (a request repeated while the server answers an intermediate answer, RFC 8628).

* ``starts_after`` names a step that comes before the polled one (its target state leads to the
  polled step's source state), not the polled step itself;
* no failure branch and not the documented response of the polled step can be an intermediate
  answer: polling would go on past it, so it could never show.
"""

from __future__ import annotations

from typing import Any, Callable

from ..diagnostics import DiagnosticList, quote
from ..model.flow import Flow, PollAnswer, Transition

Near = Callable[[str, Any], "str | None"]
Reachable = Callable[[str], set[str]]


def check_polls(flow: Flow, diags: DiagnosticList, near: Near, reachable: Reachable) -> None:
    """``near(word, options)``: a did-you-mean hint; ``reachable(state)``: states reachable from it."""
    tmap = flow.transition_map
    for i, t in enumerate(flow.transitions):
        poll = t.request.poll if t.request is not None else None
        if poll is None:
            continue
        where = ("transitions", i, "request", "poll")
        if poll.starts_after is not None:
            _starts_after(flow, t, poll.starts_after, where, diags, near, reachable, tmap)
        for j, f in enumerate(t.failures):
            a = _matching(poll.pending, f.response.statuses, f.response.error)
            if a is not None and f.response.outcome == "response":
                diags.add("poll-shadowed", f"failure '{f.id}' of '{t.id}' answers {a.error}, an intermediate answer "
                          "of its polling: the client would poll on, and the branch could never show",
                          flow.pos("transitions", i, "failures", j, "response"),
                          help=f"remove {a.error} from poll.pending, or give the branch another error code")
        resp = t.response
        if resp is not None:
            a = _matching(poll.pending, resp.statuses, resp.error)
            if a is not None:
                diags.add("poll-shadowed", f"the response of '{t.id}' is {a.error}, an intermediate answer of its "
                          "polling: document the answer that ends the polling",
                          flow.pos("transitions", i, "response"),
                          help="the response is what the last poll answers (e.g. 200 with the tokens)")


def _matching(pending: list[PollAnswer], statuses: list[int], error: str | None) -> PollAnswer | None:
    for a in pending:
        if error == a.error and (not statuses or set(statuses) & set(a.statuses)):
            return a
    return None


def _starts_after(flow: Flow, t: Transition, name: str, where: tuple[str | int, ...], diags: DiagnosticList,
                  near: Near, reachable: Reachable, tmap: dict[str, Transition]) -> None:
    def pos() -> tuple[int, int] | None:  # looked up for a problem only
        return flow.pos(*where, "starts_after")

    first = tmap.get(name)
    if first is None:
        diags.add("undefined-step", f"the polling of '{t.id}' starts after undefined transition {quote(name)}", pos(),
                  help=near(name, tmap))
    elif first is t:
        diags.add("poll-start", f"the polling of '{t.id}' cannot start after '{t.id}' itself", pos(),
                  help="name the step after which the client starts polling (the one that returns the device code)")
    elif first.to not in flow.state_map or t.from_ not in reachable(first.to):
        diags.add("poll-start", f"the polling of '{t.id}' starts after '{name}', which does not lead to "
                  f"'{t.id}' (it ends in '{first.to}'; '{t.id}' leaves '{t.from_}')", pos(),
                  help="name an earlier step on the way to the polled one")
