"""Werkzeug's URL builders compiled once per test run instead of once per Flask app.

Every test using `client` or `api` gets a new app (web.app.create_app) around its own Runtime, and for each
of the app's URL rules Werkzeug writes two Python functions (ast, then compile()): about 80 % of the
0.1-0.3 s a create_app costs, paid by some 1,500 tests. Such a function depends only on what the key below
holds (the rule's text, its parsed parts, its defaults as the builder folds them, append_unknown) and is
bound to its rule at each use, so an app made after the first one reuses the functions of the same rules.
The app's routing is unchanged: url_for and matching run the same code.

Written against Werkzeug 3.1 (requirements.txt pins it); a Werkzeug whose Rule has no _compile_builder is
left alone and the tests run as before, only slower.
"""
from __future__ import annotations

from werkzeug.routing import rules

_builders: dict[tuple, object] = {}


def _key(rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    folded = tuple((name, rule._converters[name].to_url(defaults[name]))
                   for dynamic, name in rule._trace if dynamic and name in defaults)
    return rule.rule, tuple(rule._trace), tuple(map(str, defaults)), folded, bool(append_unknown)


def install() -> None:
    original = getattr(rules.Rule, "_compile_builder", None)
    if original is None or getattr(original, "cached_by_tests", False):
        return

    def compile_builder(self, append_unknown: bool = True):
        key = _key(self, append_unknown)
        builder = _builders.get(key)
        if builder is None:
            builder = _builders[key] = original(self, append_unknown)
        return builder

    compile_builder.cached_by_tests = True
    rules.Rule._compile_builder = compile_builder
