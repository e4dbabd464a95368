"""What our scripts and stylesheets (webapp/ui/assets) rely on in Streamlit's frontend.

They find Streamlit's elements by `data-testid`, by state attributes
(`data-stale`, `data-collapsed`, `data-test-script-state`) and by the
`st-key-<key>` class of a keyed element. A Streamlit upgrade that renames any
of them breaks the page silently (a style no longer applies, a script finds
nothing); these tests read the installed Streamlit's frontend bundle and fail
first. The selectors are read from the asset files themselves, so a new one
is covered without editing this file.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from importlib import resources
from pathlib import Path

import pytest
import streamlit

from webapp.ui import assets, styles

BUNDLE_DIR = Path(streamlit.__file__).parent / "static" / "static" / "js"
ASSET_DIR = Path(str(resources.files(assets.ASSETS_PACKAGE).joinpath(assets.ASSETS_FOLDER)))
UI_DIR = ASSET_DIR.parent

# `[data-name="value"]` or `[data-name]`, quoted either way, escaped or not.
_ATTRIBUTE = re.compile(r"\[(data-[a-z-]+)(?:=\\?[\"']([^\"'\\]*)\\?[\"'])?\]")
_KEY_CLASS = re.compile(r"st-key-([A-Za-z0-9_-]+)")


def _asset_files() -> list[Path]:
    return sorted(p for p in ASSET_DIR.iterdir() if p.suffix in (".js", ".css"))


def _assets_text() -> str:
    return "\n".join(p.read_text("utf-8") for p in _asset_files())


@functools.cache
def _bundle() -> str:
    return "\n".join(p.read_text("utf-8", errors="replace") for p in BUNDLE_DIR.glob("*.js"))


def _bundle_file(*markers: str) -> str:
    """The one bundle file that holds all of `markers`."""
    texts = [p.read_text("utf-8", "replace") for p in BUNDLE_DIR.glob("*.js")]
    (found,) = [text for text in texts if all(marker in text for marker in markers)]
    return found


def _literal_in_bundle(value: str) -> bool:
    """`value` as a whole string literal ("x", 'x' or `x`) somewhere in the bundle."""
    return re.search(rf"[\"'`]{re.escape(value)}[\"'`]", _bundle()) is not None


def _attributes() -> set[tuple[str, str | None]]:
    """Every Streamlit attribute (name, value or None) the assets select on;
    our own `data-ablt-*` attributes aside."""
    return {
        (name, value or None)
        for name, value in _ATTRIBUTE.findall(_assets_text())
        if not name.startswith("data-ablt")
    }


def test_the_assets_select_on_streamlit_test_ids() -> None:
    test_ids = {value for name, value in _attributes() if name == "data-testid"}
    # The ones the chat page's behaviour hangs on are among those found.
    assert {"stMain", "stChatInputTextArea", "stSidebarCollapseButton", "stApp"} <= test_ids


@pytest.mark.parametrize(
    ("name", "value"), sorted(_attributes(), key=lambda item: (item[0], item[1] or ""))
)
def test_every_attribute_the_assets_select_on_is_in_streamlits_frontend(
    name: str, value: str | None
) -> None:
    assert _literal_in_bundle(name), f"Streamlit {streamlit.__version__} no longer sets {name}"
    if value is not None:
        assert _literal_in_bundle(value), (
            f"Streamlit {streamlit.__version__} has no {name}={value!r}: "
            "a script or stylesheet in webapp/ui/assets finds nothing"
        )


def test_keyed_elements_still_get_their_st_key_class() -> None:
    # Streamlit's frontend turns a widget's key into the class `st-key-<key>`.
    assert re.search(r"`st-key-`\s*\+", _bundle()), "the st-key- class is gone"


def test_every_key_a_stylesheet_names_is_one_the_features_draw_with() -> None:
    named = set(_KEY_CLASS.findall(_assets_text()))
    assert named == set(styles.STYLED_KEYS)


def test_scripts_in_st_html_still_run_with_their_json_parameters() -> None:
    # st.html(..., unsafe_allow_javascript=True): the sanitiser keeps <script> and
    # its `type` (our parameters are a <script type="application/json">), and
    # each script is created anew, so the browser runs it in place (where
    # `document.currentScript.previousElementSibling` is its parameters).
    html = _bundle_file("unsafeAllowJavascript", "ADD_TAGS")
    tags = re.search(r"ADD_TAGS:\[([^\]]*)\]", html)
    attributes = re.search(r"ADD_ATTR:\[([^\]]*)\]", html)
    assert tags and "script" in tags.group(1)
    assert attributes and "`type`" in attributes.group(1)
    assert "createElement(`script`)" in html and "replaceChild" in html


def test_the_cookie_component_iframe_is_still_titled_with_its_component_name() -> None:
    # cookie_component.css finds the login cookie iframe by its title.
    component = _bundle_file("stCustomComponentV1")
    name = re.search(r"componentName:(\w+)", component)
    assert name and re.search(rf"`stCustomComponentV1`[^}}]*title:{name.group(1)}\b", component), (
        "a component's iframe is no longer titled with its name"
    )
    import extra_streamlit_components  # noqa: F401  (registers the component)

    cookie_manager = sys.modules["extra_streamlit_components.CookieManager"]
    assert "CookieManager" in cookie_manager._component_func.name
    assert 'iframe[title*="CookieManager"]' in assets.text("cookie_component.css")


def test_every_asset_is_used_and_every_used_asset_exists() -> None:
    code = "\n".join(p.read_text("utf-8") for p in UI_DIR.glob("*.py"))
    used = set(re.findall(r"\"([a-z_]+\.(?:js|css))\"", code))
    files = {p.name for p in _asset_files()}
    assert used == files


def test_a_script_parameter_cannot_end_its_element() -> None:
    hostile = '</script><script>alert(1)</script>\u2028"&'
    html = assets.script_html(["scroll.js"], {"conversation": hostile})
    assert html.count("</script>") == 2  # the parameters' element and the script's
    json_part = html.split("</script>", 1)[0].removeprefix('<script type="application/json">')
    assert json.loads(json_part) == {"conversation": hostile}


def test_no_asset_closes_its_own_element() -> None:
    for path in _asset_files():
        closing = "</script" if path.suffix == ".js" else "</style"
        assert closing not in path.read_text("utf-8").lower(), path.name
