"""core.lazy: a module bound at import time and imported at its first use."""

from __future__ import annotations

import sys

from core.lazy import lazy_import


def test_the_module_is_imported_at_the_first_attribute_read_and_then_is_the_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)

    colorsys = lazy_import("colorsys")

    assert "colorsys" not in sys.modules
    assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules and colorsys.rgb_to_hsv is sys.modules["colorsys"].rgb_to_hsv


def test_a_submodule_is_imported_with_its_packages_at_the_first_read(monkeypatch):
    monkeypatch.delitem(sys.modules, "xml.dom.minidom", raising=False)

    minidom = lazy_import("xml.dom.minidom")

    assert "xml.dom.minidom" not in sys.modules
    assert minidom.parseString("<a/>").documentElement.tagName == "a"
    assert "xml.dom.minidom" in sys.modules
