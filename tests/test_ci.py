"""The hosted-CI workflow (.github/workflows/ci.yml), checked without running
it (no Docker engine or MongoDB server runs here): it parses, and every
make target, makechat command, container, maintenance switch, route, file
and folder it uses exists in the project."""

import argparse
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from makechat import cli, openapi
from tests.test_mongotools import DEFAULT_TOOLS, TOOL_NAMES

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
COMPOSE = ROOT / "docker" / "docker-compose.yml"
MAINTENANCE = ROOT / "docker" / "makechat-web" / "maintenance"


def workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(job=None):
    jobs = workflow()["jobs"]
    return [step for name, spec in jobs.items() if job in (None, name) for step in spec["steps"]]


def substitutions(word):
    """The commands inside each $(...) of a word (quotes already removed)."""
    found = []
    start = word.find("$(")
    while start != -1:
        depth, end = 1, start + 2
        while end < len(word) and depth:
            depth += {"(": 1, ")": -1}.get(word[end], 0)
            end += 1
        found.append(word[start + 2:end - 1 if depth == 0 else end])
        start = word.find("$(", end)
    return found


def shell_commands(text):
    """Split shell text into simple commands, as lists of words: quotes
    removed, continuations joined, split at ; && || | ( ) and newlines,
    $(...) parsed too, leading VAR=value assignments dropped."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        words = []
        for token in lexer:
            for inner in substitutions(token):
                found += shell_commands(inner)
            if set(token) <= set(";&|()$"):  # an operator, or the $ of $(
                found.append(words)
                words = []
            else:
                words.append(token)
        found.append(words)
    result = []
    for words in found:
        while words and re.fullmatch(r"\w+=.*", words[0]):
            words = words[1:]
        if words:
            result.append(words)
    return result


def commands(job=None):
    """Every simple command of every run: script of the workflow (or of one job)."""
    return [words for step in steps(job) for words in shell_commands(step.get("run", ""))]


def docker_execs():
    """(container, command words) of every `docker exec`."""
    result = []
    for words in commands():
        if words[:2] == ["docker", "exec"]:
            rest = words[2:]
            while rest and rest[0].startswith("-"):
                rest = rest[1:]
            result.append((rest[0], rest[1:]))
    return result


def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_workflow_parses_with_a_test_and_a_compose_job():
    document = workflow()
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads `on` as True
    assert set(triggers) >= {"push", "pull_request"}
    assert set(document["jobs"]) == {"test", "compose"}
    assert all(step.get("run") or step.get("uses") for step in steps())


def test_workflow_runs_the_suite_against_a_mongo_7_service():
    job = workflow()["jobs"]["test"]
    assert job["services"]["mongo"]["image"] == "mongo:7"
    uri = job["env"]["MAKECHAT_TEST_MONGO_URI"]
    assert re.fullmatch(r"mongodb://mongo:27017/\w+", uri)
    assert ["make", "test"] in commands("test")


def test_workflow_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    used = {words[1] for words in commands() if words[0] == "make"}
    assert used and used <= targets


def test_workflow_builds_the_tools_where_the_tests_look_for_them():
    """makechat is checked out at <workspace>/makechat and the tools are built
    into <workspace>/shared/tools/mongo-tools/bin: ../shared beside the clone."""
    checkout = next(step["with"]["path"] for step in steps("test")
                    if step.get("uses", "").startswith("actions/checkout")
                    and "repository" not in step.get("with", {}))
    build = next(step["run"] for step in steps("test") if "go build" in step.get("run", ""))
    out = re.search(r'out="\$GITHUB_WORKSPACE/([^"]+)"', build)[1]
    beside_checkout = os.path.relpath(DEFAULT_TOOLS, ROOT)  # ../shared/tools/...
    assert os.path.normpath(os.path.join(checkout, beside_checkout)) == os.path.normpath(out)
    built = re.search(r"for tool in ([\w ]+);", build)[1].split()
    assert sorted(built) == sorted(TOOL_NAMES)


def test_workflow_docker_exec_uses_the_compose_containers():
    containers = {service["container_name"] for service in compose()["services"].values()}
    used = {container for container, _ in docker_execs()}
    assert {"makechat", "makechat-web"} <= used <= containers


def test_workflow_makechat_commands_parse():
    parser = cli.build_parser()
    backup_parser = argparse.ArgumentParser(prog="backup")
    cli.add_backup_arguments(backup_parser)
    checked = 0
    for container, words in docker_execs():
        if words[0] in ("makechat", "backup"):
            chosen = parser if words[0] == "makechat" else backup_parser
            try:
                chosen.parse_args(words[1:])
            except SystemExit:
                pytest.fail(f"docker exec {container} {shlex.join(words)}: not a valid command")
            checked += 1
    assert checked >= 3  # user create, restore, backup


def test_workflow_maintenance_switches_exist():
    script = MAINTENANCE.read_text(encoding="utf-8")
    switches = set(re.findall(r"^\s+(\w+)\)", script, re.M))
    used = [words for container, words in docker_execs() if words[0] == "maintenance"]
    assert [words[1] for words in used] == ["on", "off"]
    assert {"on", "off"} <= switches


def test_workflow_commands_are_known():
    """Nothing that would only fail in CI: every command is a shell keyword,
    a tool on the runner, or one the workflow builds."""
    known = {"for", "do", "done", "break", "[", "test", "echo", "sleep", "seq", "mkdir", "tee",
             "basename", "sudo", "make", "go", "docker", "curl", "python3", "$out/mongodump"}
    used = {words[0] for words in commands()}
    assert {"make", "docker", "curl", "go"} <= used <= known, used - known


def test_workflow_curls_existing_routes(wsgi_app):
    routes = {route.path for route in openapi.iter_routes(wsgi_app)}
    paths = {re.sub(r"^http://127\.0\.0\.1:8080", "", word) for words in commands("compose")
             if words[0] == "curl" for word in words if word.startswith("http://")}
    assert paths == {"/api/health", "/api/login"}
    assert paths <= routes


def test_workflow_compose_variables_are_the_compose_files():
    text = COMPOSE.read_text(encoding="utf-8")
    variables = workflow()["jobs"]["compose"]["env"]
    assert variables and all(f"${{{name}:-" in text for name in variables)


def test_workflow_working_directories_exist():
    folders = {step["working-directory"] for step in steps("compose")
               if "working-directory" in step}
    assert folders == {"docker"} and all((ROOT / folder).is_dir() for folder in folders)


@pytest.mark.parametrize("path", ["docker/docker-compose.yml", "docker/makechat/Dockerfile",
                                  "docker/makechat-web/Dockerfile", "Makefile"])
def test_workflow_relies_on_project_file(path):
    assert (ROOT / path).is_file()
