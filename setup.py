from setuptools import find_packages, setup

from pathlib import Path

version = {}
exec(Path("makechat/__init__.py").read_text(), version)

WEB_PACKAGES = ["makechat.web", "makechat.web.assets"]

setup(
    name="makechat",
    version=version["__version__"],
    description="A self-hosted chat service: a Falcon REST API on MongoDB.",
    long_description=Path("README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="MIT",
    python_requires=">=3.10",
    # NOTE: the web client's folders hold no Python, yet setuptools sees every
    # folder of a package as a package: named here, with their files as
    # package data, they ship without ~90 lines of "Package 'makechat.web' is
    # absent from the `packages` configuration" at every install.
    # NOTE: the checkout's root is the source root. Said explicitly, `pip
    # install -e .` puts that folder on sys.path with a .pth file, quietly,
    # instead of installing a finder with a warning at every install ("Please
    # be careful with folders in your working directory ...").
    package_dir={"": "."},
    packages=find_packages(include=["makechat", "makechat.*"]) + WEB_PACKAGES,
    package_data={"makechat.web": ["*.html"], "makechat.web.assets": ["*.js", "*.css"]},
    install_requires=[
        "falcon>=4,<5",
        "gunicorn>=22",
        # gevent: the default worker class, so one process holds many waiting
        # /api/messages requests; pymongo supports it when monkey-patched.
        "gevent>=23.9",
        "mongoengine>=0.29",
        "pymongo>=4.6",
        "bcrypt>=4.1",
        # jsonschema: request bodies are validated against the same schemas
        # that /api/openapi.json publishes.
        "jsonschema>=4.18",
        # confusable_homoglyphs: Unicode's confusables data (UTS #39), from which
        # makechat.names builds the look-alike key that keeps room names and
        # usernames unique ("\u0440ublic" is "public").
        "confusable-homoglyphs>=3.3",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "WebTest>=3",
            # PyYAML: tests/test_docker.py parses docker/docker-compose.yml.
            "PyYAML>=6",
            # selenium: the browser tests drive Debian's Chromium (apt chromium,
            # chromium-driver) through its own chromedriver; nothing is downloaded.
            "selenium>=4.20",
            # The docs are built (sphinx-build -W) and /api/openapi.json is
            # validated and fuzzed (schemathesis) by the test suite.
            "sphinx>=7",
            "openapi-spec-validator>=0.7",
            "schemathesis>=4",
        ],
    },
    entry_points={
        "console_scripts": [
            "makechat = makechat.cli:main",
            "backup = makechat.cli:backup_main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Falcon",
        "Topic :: Communications :: Chat",
    ],
)
