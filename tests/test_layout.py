"""The package's layers, checked by reading its imports with ``ast``.

- No module uses another module's private name (one that starts with an
  underscore), whether imported by name or reached as an attribute of an
  imported module; across the package boundaries above all.
- The codec knows nothing of the DICOM layer, of pydicom or of the public
  faces; the DICOM layer nothing of the public faces.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dicomrle"
FACES = ("dicomrle.cli", "dicomrle.dask", "dicomrle.plugin",
         "dicomrle.pixel_data_handler", "dicomrle.__main__")
# What each layer may not import, by module name prefix.
FORBIDDEN = {
    "codec": ("dicomrle.dicom", "pydicom", *FACES),
    "dicom": tuple(FACES),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


SOURCES = sorted(
    p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyi") and p.is_file()
)


def imports(tree: ast.AST) -> list[tuple[int, str, list[str], str | None]]:
    """(line, module, names imported from it, name bound to the module)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                found.append((node.lineno, alias.name, [], bound if alias.asname else None))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names], None))
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_the_package_has_its_layers() -> None:
    assert (PACKAGE / "codec" / "rle.pyx").is_file()
    assert (PACKAGE / "dicom" / "walk.pyx").is_file()
    for folder in (PACKAGE, PACKAGE / "codec", PACKAGE / "dicom"):
        assert (folder / "meson.build").is_file(), folder
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "cli.py", "dask.py", "plugin.py",
                   "pixel_data_handler.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_module(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    problems = []
    modules_bound: dict[str, str] = {}
    for line, module, names, _ in imports(tree):
        if not module.startswith("dicomrle"):
            continue
        for part in module.split("."):
            if is_private(part):
                problems.append(f"line {line}: imports the private module {module}")
        for name in names:
            if is_private(name):
                problems.append(f"line {line}: imports {name} from {module}")
            else:
                modules_bound[name] = f"{module}.{name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules_bound
            and is_private(node.attr)
        ):
            problems.append(
                f"line {node.lineno}: uses {node.value.id}.{node.attr}, private to "
                f"{modules_bound[node.value.id]}"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_layer_imports_only_what_is_below_it(path: Path) -> None:
    name = module_name(path)
    layer = name.split(".")[1] if name.count(".") >= 1 else None
    forbidden = FORBIDDEN.get(layer or "", ())
    tree = ast.parse(path.read_text(), str(path))
    wrong = []
    for line, module, names, _ in imports(tree):
        # `from dicomrle import x` imports the module dicomrle.x, or a public
        # name of the package's face.
        targets = [f"{module}.{n}" for n in names] if module == "dicomrle" else [module]
        if module == "dicomrle" and not all(t in FACES for t in targets):
            wrong.append(f"line {line}: {name} imports the face dicomrle")
        wrong += [
            f"line {line}: {name} imports {target}"
            for target in targets
            if any(target == f or target.startswith(f + ".") for f in forbidden)
        ]
    assert not wrong, "\n".join(wrong)


def test_the_checks_can_fail() -> None:
    """The private-name rule sees both shapes it forbids."""
    tree = ast.parse("from dicomrle.codec.frame import _x\nimport dicomrle._y\n")
    found = imports(tree)
    assert found[0][2] == ["_x"] and is_private(found[0][2][0])
    assert is_private(found[1][1].split(".")[1])
