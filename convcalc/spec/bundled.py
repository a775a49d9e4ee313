"""The example networks shipped with convcalc, found by name (``alexnet-lecture``) or file name."""

from __future__ import annotations

from pathlib import Path


def specs_directory() -> Path:
    """Installed wheels carry the specs inside the package; a source checkout has them at the top level."""
    package = Path(__file__).resolve().parents[1]  # convcalc/, from convcalc/spec/bundled.py
    packaged = package / "specs"
    return packaged if packaged.is_dir() else package.parent / "specs"


def bundled_names() -> list[str]:
    directory = specs_directory()
    return sorted(path.stem for path in directory.glob("*.yaml")) if directory.is_dir() else []


def find_bundled(name: str) -> Path | None:
    """The bundled spec called ``name`` (with or without .yaml), if there is one."""
    stem = name.removesuffix(".yaml")
    candidate = specs_directory() / f"{stem}.yaml"
    return candidate if "/" not in stem and candidate.is_file() else None
