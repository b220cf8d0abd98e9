"""The layering the README describes, read from the code's own imports.

- The page cache wraps the app: `pagecache` uses the blog app only through `blog.changes` (its
  public signal and generation), and nothing in `blog` or `config` imports `pagecache` except the
  WSGI entry point and the settings that name the app.
- No import cycle among the project's modules, counting imports inside functions too (an import
  moved into a function to dodge a cycle is still a cycle).
"""

import ast
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("blog", "config", "pagecache")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, modules: dict[str, Path], *, in_functions: bool = True) -> set[str]:
    """The project modules this file imports (the deepest existing module of each name)."""
    tree = ast.parse(path.read_text())
    nodes = ast.walk(tree) if in_functions else tree.body
    found = set()
    for node in nodes:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def test_the_page_cache_uses_the_blog_only_through_its_public_changes_module():
    modules = project_modules()
    for name, path in modules.items():
        imported = imports_of(path, modules)
        if name.startswith("pagecache"):
            blog = {module for module in imported if module.startswith("blog")}
            assert blog <= {"blog.changes"}, (name, blog)
        elif name != "config.wsgi":
            assert not {m for m in imported if m.startswith("pagecache")}, name


def test_no_import_cycle_among_the_projects_modules():
    modules = project_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how packages re-export; the
    # submodules importing the package back is the cycle this looks for.
    cycles = []

    def visit(name, trail):
        for target in sorted(graph.get(name, ())):
            if target in trail:
                cycle = [*trail[trail.index(target) :], target]
                if not all(
                    a.startswith(b + ".") or b.startswith(a + ".")
                    for a, b in itertools.pairwise(cycle)
                ):
                    cycles.append(" -> ".join(cycle))
            elif len(trail) < 12:
                visit(target, [*trail, target])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, sorted(set(cycles))[:10]


def test_the_feeds_take_what_they_need_from_the_blog_index_not_from_the_models():
    modules = project_modules()
    assert not {m for m in imports_of(ROOT / "blog/feeds.py", modules) if "models" in m}
