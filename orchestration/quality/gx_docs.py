"""Data Docs that work offline and load nothing from third parties.

GX 1.24's page templates take jQuery, Bootstrap, bootstrap-table, Font Awesome (and the logo)
from CDNs. Without them the index page is empty: its tables of suites and results are drawn
by bootstrap-table in the browser. This project's machines are offline, and a steward's
browser should not report every visit to third parties, so the Data Docs site of the GX
project (`expectations/great_expectations.yml`, `data_docs_sites.local_site`) renders with
the views below. They differ from GX's own in one thing: templates in
`expectations/plugins/custom_data_docs/views/` come *first* (GX looks there only for
templates it does not have itself, so it cannot override one). The overrides there load the
same library versions from the site's `static/vendor/`, which `gx_project.install_docs_assets`
fills from `expectations/plugins/custom_data_docs/static/vendor/` (see its README).

Verified on great_expectations 1.24.1 (pinned); the browser test
(tests/quality/test_data_docs_browser.py) renders the index in headless Chromium.
"""

from __future__ import annotations

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader


def _views_first(view: DefaultJinjaPageView, custom_views_directory: str | None) -> None:
    if custom_views_directory:
        view.env.loader = ChoiceLoader([FileSystemLoader(custom_views_directory), view.env.loader])


class OfflinePageView(DefaultJinjaPageView):
    """Suite and validation-result pages (GX's `page.j2`), project templates first."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _views_first(self, custom_views_directory)


class OfflineIndexPageView(DefaultJinjaIndexPageView):
    """The site's index page (GX's `index_page.j2`), project templates first."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _views_first(self, custom_views_directory)
