"""What the suites rely on the test browsers to do as a person would, checked in both: a click reaches the
element it was aimed at, even when the page moves that element away as the pointer arrives (the suites'
clicks on views still filling in), instead of landing on whatever took its place."""

from __future__ import annotations

import pytest

from tests.extension.support import Browser, ShopSite

pytestmark = pytest.mark.slow

# A button that, the first time the pointer moves over the page, gets a decoy pushed in above it: the
# pointer then rests on the decoy.
MOVING_BUTTON = """() => {
  document.body.innerHTML = '<div id="area" style="padding: 40px"><button id="target">Target</button></div>';
  window.clicks = [];
  const area = document.getElementById("area");
  area.addEventListener("click", (event) => window.clicks.push(event.target.id));
  document.addEventListener("mousemove", () => {
    if (document.getElementById("decoy")) return;
    const decoy = document.createElement("button");
    decoy.id = "decoy";
    decoy.textContent = "Decoy";
    decoy.style.cssText = "display: block; width: 400px; height: 120px";
    area.prepend(decoy);
  });
}"""


def test_a_click_reaches_its_element_when_the_page_moves_it_under_the_pointer(
    browser: Browser, site: ShopSite
) -> None:
    page = browser.site_page(site.url)
    page.evaluate(MOVING_BUTTON)
    page.click("#target")
    assert page.evaluate("() => window.clicks") == ["target"]
    assert page.is_visible("#decoy")  # the page did move it
