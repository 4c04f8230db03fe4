"""Development tools that need the checkout: a disposable database server
(``devdb.database``) for the tests, the benchmarks and ``make run``, and
``make run``'s launcher (``devdb.run``, run as ``python -m devdb``).

NOTE: not part of the makechat package, so neither the wheel nor the
image ships it. It builds FerretDB with scripts/build-ferretdb.sh and
points at docs/_build, which exist only in a checkout; makechat itself
never imports it. An editable install (``make install``) puts the
checkout on sys.path, so ``import devdb`` works from the virtualenv.
"""
