"""Check the internal links of the built HTML documentation, offline.

Usage (after ``python -m sphinx -W --keep-going -b html docs docs/_build/html``)::

    python docs/check_links.py docs/_build/html

For every ``.html`` file under the build directory it reports

* every relative link (``href`` of ``<a>`` and ``<link>``, ``src`` of ``<img>``,
  ``<script>``, ``<iframe>``, ``<source>``) whose target file does not exist;
* every ``#anchor`` (in the same page or another one) with no element of that
  ``id`` (or ``name``) in the target page;
* every script, stylesheet or font that would be fetched from the network
  (``http(s)://`` or ``//`` in a ``<script src>``, a ``<link>`` other than a plain
  hyperlink, or a ``url(...)`` / ``@import`` in a built ``.css`` file): the site
  must work offline.

Links to other sites (``<a href="https://...">``) are hyperlinks a reader may
follow; they are counted but not fetched. Exits with status 1 when anything is
reported, 0 otherwise.
"""

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = {
    "a": "href",
    "link": "href",
    "area": "href",
    "img": "src",
    "script": "src",
    "iframe": "src",
    "source": "src",
    "embed": "src",
}
# <link rel=...> values that are hyperlinks, not resources the page loads.
HYPERLINK_RELS = {"canonical", "index", "search", "next", "prev", "author", "help"}
# Not pages: the theme's and extensions' assets (Jinja templates among them) and
# the copies of the sources.
SKIPPED_DIRS = {"_static", "_sources"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class PageParser(HTMLParser):
    """Collects the ids and names of a page and the links it makes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = set()
        self.links = []  # (line, tag, url, is_resource)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.anchors.add(attrs[key])
        attribute = LINK_ATTRIBUTES.get(tag)
        url = attrs.get(attribute) if attribute else None
        if url is None:
            return
        if tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            is_resource = not rels or not rels <= HYPERLINK_RELS
        else:
            is_resource = tag != "a" and tag != "area"
        self.links.append((self.getpos()[0], tag, url.strip(), is_resource))

    handle_startendtag = handle_starttag


def is_external(url):
    parts = urlsplit(url)
    return bool(parts.scheme) or url.startswith("//")


def parse_pages(root):
    pages = {}
    for path in sorted(root.rglob("*.html")):
        if path.relative_to(root).parts[0] in SKIPPED_DIRS:
            continue
        parser = PageParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        pages[path.resolve()] = parser
    return pages


def check(root):
    root = root.resolve()
    pages = parse_pages(root)
    problems = []
    counts = {"pages": len(pages), "internal": 0, "anchors": 0, "external": 0}

    def anchors_of(target):
        if target not in pages:  # an HTML file outside the walk (it exists)
            parser = PageParser()
            parser.feed(target.read_text(encoding="utf-8", errors="replace"))
            pages[target] = parser
        return pages[target].anchors

    for page, parser in list(pages.items()):
        where = page.relative_to(root)
        for line, tag, url, is_resource in parser.links:
            if is_external(url):
                scheme = urlsplit(url).scheme.lower()
                if scheme in ("mailto", "javascript", "data", "tel"):
                    continue
                counts["external"] += 1
                if is_resource:
                    problems.append(
                        f"{where}:{line}: <{tag}> loads {url} from the network"
                    )
                continue
            parts = urlsplit(url)
            if parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
                counts["internal"] += 1
                if target.is_dir():
                    target = target / "index.html"
                if not target.exists():
                    problems.append(f"{where}:{line}: <{tag}> {url}: no such file")
                    continue
            else:
                target = page
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                counts["anchors"] += 1
                if fragment not in anchors_of(target):
                    problems.append(
                        f"{where}:{line}: <{tag}> {url}: no id {fragment!r} in "
                        f"{target.relative_to(root) if target.is_relative_to(root) else target}"
                    )

    for css in sorted(root.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for match in CSS_URL.finditer(text):
            url = match.group(1) or match.group(2)
            if is_external(url) and not url.startswith("data:"):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"{css.relative_to(root)}:{line}: loads {url} from the network"
                )
    return problems, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "build_dir",
        nargs="?",
        default=str(Path(__file__).resolve().parent / "_build" / "html"),
        help="the built HTML (default: docs/_build/html)",
    )
    args = parser.parse_args(argv)
    root = Path(args.build_dir)
    if not (root / "index.html").exists():
        print(f"{root} holds no index.html: build the documentation first.")
        return 2
    problems, counts = check(root)
    for problem in problems:
        print(problem)
    print(
        f"{counts['pages']} pages, {counts['internal']} internal links, "
        f"{counts['anchors']} anchors checked, {counts['external']} links to other "
        f"sites (not fetched): {len(problems)} problem(s)."
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
