"""The suite's fixtures, registered once for every folder (tests/unit asks for none of them)."""

pytest_plugins = [
    "tests.support.stack",
    "tests.support.twilio",
    "tests.support.admin",
    "tests.support.prism",
    "tests.support.processes",
]
