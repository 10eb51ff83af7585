"""A run's report three ways: rows for a table people read, one JSON object for scripts, and JUnit XML
for CI systems (one testcase per case; a failure carries what the site did and what to fix)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from vault.conformance.run import Report, Result

HEADERS = ["case", "result", "what the site did", "what to fix"]


def outcome(result: Result) -> str:
    return "skip" if result.skipped else "pass" if result.passed else "FAIL"


def table_rows(report: Report) -> list[list[str]]:
    return [[r.id, outcome(r), r.detail, r.fix] for r in report.results]


def summary(report: Report) -> str:
    counts = report.counts()
    words = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    verdict = "conforms" if report.passed else "does not conform"
    line = f"{report.target.origin} {verdict}: {words}"
    return f"{line}; {report.stopped}." if report.stopped else line + "."


def as_json(report: Report) -> dict[str, Any]:
    return {
        "origin": report.target.origin,
        "nonce_url": report.target.nonce_url,
        "submit_url": report.target.submit_url,
        "purpose": report.purpose,
        "passed": report.passed,
        "counts": report.counts(),
        "stopped": report.stopped or None,
        "cases": [
            {
                "id": r.id,
                "title": r.title,
                "passed": r.passed,
                "skipped": r.skipped,
                "status": r.status,
                "detail": r.detail,
                "fix": r.fix or None,
            }
            for r in report.results
        ],
    }


def as_junit(report: Report) -> bytes:
    counts = report.counts()
    total = sum(r.seconds for r in report.results)
    suites = ET.Element("testsuites", name="vault conformance", tests=str(len(report.results)),
                        failures=str(counts["failed"]), time=f"{total:.3f}")  # fmt: skip
    suite = ET.SubElement(
        suites, "testsuite", name=f"vault conformance {report.target.origin}", tests=str(len(report.results)),
        failures=str(counts["failed"]), errors="0", skipped=str(counts["skipped"]), time=f"{total:.3f}",
    )  # fmt: skip
    for result in report.results:
        group = result.id.split(".", 1)[0]
        case = ET.SubElement(suite, "testcase", classname=f"vault.conformance.{group}", name=result.id,
                             time=f"{result.seconds:.3f}")  # fmt: skip
        if result.skipped:
            ET.SubElement(case, "skipped", message=result.detail)
        elif not result.passed:
            failure = ET.SubElement(case, "failure", message=result.detail, type="nonconformance")
            failure.text = f"{result.title}: {result.detail}\nWhat to fix: {result.fix}"
        else:
            ET.SubElement(case, "system-out").text = f"{result.title}: {result.detail}"
    if report.stopped:
        ET.SubElement(suite, "system-err").text = report.stopped
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
