"""A served worker's first page is no slower than its tenth (issue 13): before it takes traffic, the
templates are compiled and the search page is built once as an anonymous reader, so that the first
reader does not pay for Jinja's compilation, the interface catalogues and the anonymous reader's document
sets. Then what start-up allocated (modules, templates, the searcher's caches: 125,000 tracked objects at
7,430 notes) is frozen out of the cyclic garbage collector's sight (``gc.freeze``): a full collection over
it took 90 ms in the middle of some reader's request. Called by the WSGI entry point (each gunicorn
worker), not by every app a test creates."""
from __future__ import annotations

import gc
import logging
import time

from flask import Flask

from .i18n import LOCALES

log = logging.getLogger(__name__)
WARM_QUERY = "protection"  # one word: the pages are what is warmed here (kb.search warms the searcher)


def warm(app: Flask) -> float:
    """Compile every template and build the search results page once, in each interface language; returns
    the seconds taken. Never raises: a failure is logged and the worker serves anyway."""
    started = time.perf_counter()
    try:
        env = app.jinja_env
        for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml", ".txt"))):
            env.get_template(name)
        for lang in LOCALES:
            with app.test_request_context("/search", query_string={"q": WARM_QUERY},
                                          headers={"Accept-Language": lang}):
                app.view_functions["search.page"]()
    except Exception:  # the worker serves anyway; the first reader pays what was not warmed
        log.exception("warming the web pages failed")
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started
