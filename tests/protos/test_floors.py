"""scripts/floors.py: every requirement declares a real floor, and the constraints pin exactly those."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import floors  # noqa: E402

PROJECT = {
    "project": {
        "name": "demo-pkg",
        "dependencies": ["protobuf>=5.29.5,<8", "grpcio >= 1.66.0"],
        "optional-dependencies": {
            "emulator": ["grpcio-reflection>=1.66.0"],
            "dev": ["grpcio-tools==1.66.0"],
            "test": ["demo-pkg[emulator]", "grpcio_tools>=1.66.0", "pytest>=8.2; python_version >= '3.10'"],
        },
    }
}


def test_parse_reads_names_extras_clauses_and_markers() -> None:
    req = floors.parse("tritonclient[grpc, http]>=2.73,<3 ; python_version >= '3.10'")
    assert req.name == "tritonclient" and req.extras == ("grpc", "http")
    assert req.clauses == ((">=", "2.73"), ("<", "3")) and req.marker == "python_version >= '3.10'"
    assert req.floor == "2.73"
    assert floors.parse("mypy-protobuf==5.1.0").floor == "5.1.0"
    assert floors.parse("Foo_Bar<2").floor is None


def test_constraints_pin_every_floor_with_self_references_expanded() -> None:
    pins = floors.floor_pins(floors.requirements(PROJECT, ["test"]))
    assert pins == {
        "protobuf": "5.29.5",
        "grpcio": "1.66.0",
        "grpcio-reflection": "1.66.0",
        "grpcio-tools": "1.66.0",
        "pytest": "8.2",
    }
    assert floors.constraints({"b": "2", "a": "1"}) == "a==1\nb==2\n"


def test_a_requirement_without_a_floor_is_refused() -> None:
    project = {"project": {"name": "x", "dependencies": ["httpx<1"]}}
    with pytest.raises(ValueError, match="httpx declares no floor"):
        floors.floor_pins(floors.requirements(project))


def test_two_floors_for_one_package_are_refused() -> None:
    project = {"project": {"name": "x", "dependencies": ["grpcio>=1.66.0"],
                           "optional-dependencies": {"dev": ["grpcio==1.70.0"]}}}
    with pytest.raises(ValueError, match="grpcio has two floors"):
        floors.floor_pins(floors.requirements(project))


def test_the_projects_own_floors_are_consistent() -> None:
    pins = floors.floor_pins(floors.requirements(floors.load()))
    assert pins["protobuf"] == "5.29.5"
    assert pins["grpcio"] == pins["grpcio-tools"]  # the stubs' gate is the generator's version
