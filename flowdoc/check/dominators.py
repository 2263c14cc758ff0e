"""Dominators of a directed graph (Lengauer–Tarjan), without recursion.

Node ``d`` dominates node ``v`` when every path from the root to ``v`` passes ``d``.
:class:`Dominance` answers that in O(1) after an O(m log n) build, so a check asked for
every reference of a long flow stays linear-ish: ``capture-not-produced`` asks "does every
path to this step pass the step that captures the value?" once per reference.
"""

from __future__ import annotations

from typing import Sequence


def _dfs(succ: Sequence[Sequence[int]], root: int) -> tuple[list[int], list[int], list[int]]:
    """Preorder numbers of the nodes reachable from root (-1 elsewhere), the node of each
    number, and the DFS-tree parent of each number."""
    number = [-1] * len(succ)
    vertex: list[int] = []
    parent: list[int] = []
    stack = [(root, -1)]
    while stack:
        v, p = stack.pop()
        if number[v] != -1:
            continue
        number[v] = len(vertex)
        vertex.append(v)
        parent.append(p)
        me = number[v]
        for w in reversed(succ[v]):
            if number[w] == -1:
                stack.append((w, me))
    return number, vertex, parent


class _Forest:
    """The link-eval forest of Lengauer–Tarjan (path compression; compress is iterative)."""

    def __init__(self, semi: list[int]):
        n = len(semi)
        self.semi = semi
        self.ancestor = [-1] * n
        self.label = list(range(n))

    def eval(self, v: int) -> int:
        anc, label, semi = self.ancestor, self.label, self.semi
        if anc[v] == -1:
            return v
        path = []
        u = v
        while anc[anc[u]] != -1:
            path.append(u)
            u = anc[u]
        for u in reversed(path):
            a = anc[u]
            if semi[label[a]] < semi[label[u]]:
                label[u] = label[a]
            anc[u] = anc[a]
        return label[v]


def immediate_dominators(succ: Sequence[Sequence[int]], root: int) -> list[int]:
    """``idom[v]`` for every node (the root's is itself; -1 for nodes the root cannot reach)."""
    number, vertex, parent = _dfs(succ, root)
    n = len(vertex)
    pred: list[list[int]] = [[] for _ in range(n)]
    for v in vertex:
        for w in succ[v]:
            pred[number[w]].append(number[v])
    semi = list(range(n))
    idom = [0] * n
    bucket: list[list[int]] = [[] for _ in range(n)]
    forest = _Forest(semi)
    for w in range(n - 1, 0, -1):
        for v in pred[w]:
            u = forest.eval(v)
            if semi[u] < semi[w]:
                semi[w] = semi[u]
        bucket[semi[w]].append(w)
        p = parent[w]
        forest.ancestor[w] = p
        for v in bucket[p]:
            u = forest.eval(v)
            idom[v] = u if semi[u] < semi[v] else p
        bucket[p].clear()
    for w in range(1, n):
        if idom[w] != semi[w]:
            idom[w] = idom[idom[w]]
    out = [-1] * len(succ)
    for i, v in enumerate(vertex):
        out[v] = vertex[idom[i]]
    return out


class Dominance:
    """``dominates(d, v)`` in O(1): an Euler tour of the dominator tree."""

    def __init__(self, succ: Sequence[Sequence[int]], root: int):
        idom = immediate_dominators(succ, root)
        children: list[list[int]] = [[] for _ in succ]
        for v, d in enumerate(idom):
            if d != -1 and v != root:
                children[d].append(v)
        self.enter = [-1] * len(succ)
        self.leave = [-1] * len(succ)
        clock = 0
        stack = [(root, False)]
        while stack:
            v, done = stack.pop()
            if done:
                self.leave[v] = clock
                clock += 1
                continue
            self.enter[v] = clock
            clock += 1
            stack.append((v, True))
            stack.extend((c, False) for c in children[v])

    def reachable(self, v: int) -> bool:
        return self.enter[v] != -1

    def dominates(self, d: int, v: int) -> bool:
        """Every path from the root to ``v`` passes ``d`` (False when ``v`` is unreachable)."""
        return self.reachable(v) and self.enter[d] <= self.enter[v] and self.leave[v] <= self.leave[d]
