"""The renderer: escaping filters, user template overrides, and the sandbox."""
from __future__ import annotations

import re

import pytest

from kbgen.notes.common import Ref
from kbgen.render import FILTERS, RenderError, Renderer, tidy


@pytest.mark.parametrize("hostile", ["<script>x</script>", "A|B", "]]evil[[", "AT&T", "#tag", "$1 and $2", "*bold*",
                                     "&lt;img src=x onerror=alert(1)&gt;", "&#60;b&#62;"])
def test_md_filter_leaves_no_markup(hostile):
    shown = FILTERS["md"](hostile)
    for raw in ("<", ">", "[[", "]]", "$"):
        assert raw not in shown
    assert "|" not in shown.replace("\\|", "")
    assert not shown.startswith("#")
    # no entity survives that the data wrote: a bare "&" is harmless, "&lt;" from the data is not
    assert re.findall(r"&(?!amp;|lt;|gt;|#36;|#9[136];)#?[A-Za-z0-9]+;", shown) == []


def test_links_escape_labels_and_pipe_in_tables():
    ref = Ref("Energy", "XLE|x")
    assert FILTERS["link"](ref) == "[[Energy|XLE\\|x]]"
    assert FILTERS["tlink"](Ref("Energy", "XLE")) == "[[Energy\\|XLE]]"
    assert FILTERS["link"](Ref("Apple", "Apple")) == "[[Apple]]"
    # no bracket may stand inside a link's alias: the link would end there
    assert FILTERS["link"](Ref("Co", "A [[B]] C")) == "[[Co|A ((B)) C]]"
    assert FILTERS["link"](Ref(None, "<b>")) == "&lt;b&gt;"
    assert FILTERS["links"]([Ref("A", "A"), Ref("B", "B"), Ref("C", "C")], conjunction="and") == "[[A]], [[B]] and [[C]]"
    assert FILTERS["links"]([]) == "—"


def test_number_filters():
    assert FILTERS["pct"](0.071) == "+7.1%"
    assert FILTERS["pct"](-0.0049, 2) == "-0.49%"
    assert FILTERS["pct"](None) == "n/a"
    assert FILTERS["share"](0.583) == "58%"
    assert FILTERS["pts"](0.084) == "+8.4 pts"
    assert FILTERS["signed"](3, 0) == "+3"
    assert FILTERS["pct"](-0.00004) == "0.0%" and FILTERS["signed"](0, 0) == "0"
    assert FILTERS["num"](1234.5) == "1,234.50"
    assert FILTERS["times"](2.31) == "2.3x"


def test_tidy_collapses_blank_runs_and_hugs_markers():
    text = "<!-- kbgen:begin a -->\n\n\nx\n\n\n\ny\n\n<!-- kbgen:end a -->\n"
    assert tidy(text) == "<!-- kbgen:begin a -->\nx\n\ny\n<!-- kbgen:end a -->\n"


def test_user_template_overrides_builtin_by_name(tmp_path):
    (tmp_path / "home.md.j2").write_text("# Mine {{ title|md }}\n")
    assert Renderer(tmp_path).render("home.md.j2", title="A|B") == "# Mine A\\|B\n"


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ cycler.__init__.__globals__.os }}",
])
def test_sandbox_blocks_python_internals(tmp_path, attack):
    (tmp_path / "home.md.j2").write_text(attack)
    with pytest.raises(RenderError, match="home.md.j2"):
        Renderer(tmp_path).render("home.md.j2", title="x")


def test_broken_user_template_names_file_and_line(tmp_path):
    (tmp_path / "daily.md.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(RenderError, match=r"daily.md.j2.*:2"):
        Renderer(tmp_path).render("daily.md.j2")


def test_missing_template_folder_is_a_clear_error(tmp_path):
    with pytest.raises(RenderError, match="does not exist"):
        Renderer(tmp_path / "nope")
