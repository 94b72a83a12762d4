"""The README's list of what works is generated from the code; it must be current."""

import os

from cloudlet import docs

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_readme_services_section_is_current():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert docs.render(readme) == readme, "run: python -m cloudlet.docs"


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as f:
        ci = f.read()
    serve = "python3 -m pip install -e . && cloudlet serve"
    test = "python3 -m pip install -q -e '.[test]' && python3 -m pytest"
    assert serve in readme
    assert test in readme
    assert test in ci


def test_the_implemented_operations_index_is_current():
    from cloudlet.services.registry import IMPLEMENTED_JSON

    with open(IMPLEMENTED_JSON, encoding="utf-8") as f:
        assert f.read() == docs.index_text(), "run: python -m cloudlet.docs"
