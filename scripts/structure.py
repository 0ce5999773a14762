"""The structure of the code, drawn from its imports, and the rules it must keep.

    .venv/bin/python scripts/structure.py            # rooms and the arrows between them, then any breach
    .venv/bin/python scripts/structure.py --modules  # every module's imports of project modules

Every import counts, those inside functions too: an import deferred to break a circle still draws
one. tests/test_structure.py fails on any breach, so the rules below hold on every commit.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("emotion", "fersite")
LONG_MODULE = 300
# Rooms whose imports are bounded: (room, the prefixes it may import from the project).
BOUNDED = {
    "emotion.ml": ("emotion.ml",),
    "emotion.training": ("emotion.ml", "emotion.training"),
}
# fersite is configuration: only its routing modules name the apps whose routes they mount; emotion/web
# is the plumbing the apps share, so it names none of them either.
FERSITE_MAY_IMPORT_APPS = {"fersite.urls", "fersite.asgi"}
FEATURE_APPS = ("emotion.research", "emotion.live", "emotion.stimuli", "emotion.privacy")
NO_FEATURE_APPS = ("fersite", "emotion.web")


def modules() -> dict:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


@lru_cache(maxsize=None)
def parsed(path: Path) -> tuple:
    """(the module's syntax tree, its number of lines): each file is read and parsed once per run."""
    text = path.read_text()
    return ast.parse(text, str(path)), text.count("\n")


def imports(name: str, path: Path, known: dict) -> set:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(parsed(path)[0]):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n in known and n != name}


def graph() -> dict:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def third_party(name: str, path: Path) -> set:
    tops = set()
    for node in ast.walk(parsed(path)[0]):
        if isinstance(node, ast.Import):
            tops.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def circles(edges: dict) -> list:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]; counter[0] += 1
                    stack.append(child); on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop(); on_stack.discard(member); group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def room(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "emotion" and len(parts) > 2 else parts[0] if parts[0] == "fersite" else name


def breaches(edges: dict) -> list:
    known = modules()
    found = [f"import circle: {' -> '.join(group)}" for group in circles(edges)]
    for name, targets in sorted(edges.items()):
        for bounded, allowed in BOUNDED.items():
            if name == bounded or name.startswith(bounded + "."):
                found += [f"{name} imports {t}: {bounded} may import only {', '.join(allowed)}"
                          for t in sorted(targets) if not t.startswith(allowed)]
                if "django" in third_party(name, known[name]):
                    found.append(f"{name} imports Django: {bounded} runs without it")
        if name.startswith(NO_FEATURE_APPS) and name not in FERSITE_MAY_IMPORT_APPS:
            found += [f"{name} imports the app module {t}: {room(name)} names no feature app"
                      for t in sorted(targets) if t.startswith(FEATURE_APPS)]
        path = known[name]
        tree, lines = parsed(path)
        if lines > LONG_MODULE and "over 300 lines because" not in (ast.get_docstring(tree) or "").lower():
            found.append(f"{name} has {lines} lines and no 'Over 300 lines because ...' in its docstring")
        if path.name == "__init__.py" and not ast.get_docstring(tree):
            found.append(f"{name} has no docstring saying what the room holds")
    return found


def main(argv: list) -> int:
    edges = graph()
    if "--modules" in argv:
        for name, targets in sorted(edges.items()):
            print(f"{name}: {', '.join(sorted(targets)) or '-'}")
    else:
        arrows = defaultdict(int)
        for name, targets in edges.items():
            for t in targets:
                if room(name) != room(t):
                    arrows[room(name), room(t)] += 1
        for (a, b), n in sorted(arrows.items()):
            print(f"{a:20} -> {b:20} {n} import{'s' * (n > 1)}")
    found = breaches(edges)
    print("\n".join(found) if found else "no circles, no breach of the rules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
