"""docs/api.md's tables of kinds and links are /catalog's answer, rendered: a test keeps them equal.

`python -m tests.test_docs` (or `make docs`) writes them anew after a catalogue change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.gateway import Gateway

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
BEGIN, END = "<!-- catalog tables: generated from GET /catalog by `make docs` -->", "<!-- end of catalog tables -->"


def render(catalog: dict[str, Any]) -> str:
    kinds = [k for k in catalog["kinds"] if not k["subEntity"]]
    rows = ["| kind | collection | apiVersion | scope | kubectl names |", "|---|---|---|---|---|"]
    rows += [
        f"| {k['kind']} | `{k['collection']}` | {k['apiVersion']} | {'namespaced' if k['namespaced'] else 'cluster'} "
        f"| {', '.join(k['shortNames']) or '-'} |"
        for k in sorted(kinds, key=lambda k: k["kind"])
    ]
    links = ["| kind | rel | targets | one/many | resolved from |", "|---|---|---|---|---|"]
    for k in sorted(catalog["kinds"], key=lambda k: (k["subEntity"], k["kind"])):
        for link in k["links"]:
            via = f" (only via {', '.join(link['onlyVia'])})" if "onlyVia" in link else ""
            doc = link["resolvedFrom"].replace("|", "\\|")
            links.append(f"| {k['kind']} | `{link['rel']}` | {', '.join(link['targets'])} | {link['cardinality']} "
                         f"| {doc}{via} |")  # fmt: skip
    return "\n".join([BEGIN, "", *rows, "", *links, "", END])


def section(text: str) -> str:
    found = re.search(re.escape(BEGIN) + ".*?" + re.escape(END), text, re.S)
    assert found, f"docs/api.md has no {BEGIN!r} section"
    return found.group(0)


def test_the_api_docs_tables_are_the_catalogue(demo: Gateway) -> None:
    expected = render(demo.json("/catalog"))
    assert section(API_DOC.read_text()) == expected, "docs/api.md is stale: run `make docs`"


if __name__ == "__main__":
    from gateway.app import create_app
    from gateway.config import Config

    catalog = create_app(Config(extra={"TESTING": True})).test_client().get("/catalog").get_json()
    text = API_DOC.read_text()
    API_DOC.write_text(text.replace(section(text), render(catalog)))
    print(f"wrote the catalogue's tables into {API_DOC}")
