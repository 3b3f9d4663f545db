"""The student's whole journey in a real JupyterLab (Chromium via Playwright) with the extension, the real
relay and the real service with its embedded worker: open the panel from the launcher, fetch the demo
assignment, validate the untouched notebook (problems listed), answer in the notebook, validate again
(passes), submit, watch the status turn to graded, see the per-cell results and the released feedback.
Screenshots go to docs/ui/. Any browser console error fails the test."""

from __future__ import annotations

import json

import pytest

from grader_service.api.health import OPENAPI_PATH
from tests.ui.conftest import poll, shot

pytestmark = pytest.mark.slow

NAME = "Assignment 1: Python basics"
ANSWER = (
    "def mean(values):\n"
    "    if not values:\n"
    "        raise ValueError('empty')\n"
    "    return sum(values) / len(values)\n"
)
EXPLAIN = "Dividing the integer sum by the count is true division."


def service_has(path_suffix: str) -> bool:
    """Whether the service's API has a route (the feedback API of #14 may not be there yet)."""
    return any(p.endswith(path_suffix) for p in json.loads(OPENAPI_PATH.read_text())["paths"])


def open_lab(page, lab) -> None:
    page.goto(f"{lab.url}/lab?token={lab.token}")
    page.wait_for_selector(".jp-Launcher")
    page.wait_for_function("document.body.dataset.graderLabextension === 'activated'")


def card(page):
    return page.locator(".jp-GraderAssignment", has_text=NAME)


def tab(page, label: str) -> None:
    page.locator(".lm-DockPanel .lm-TabBar-tab", has_text=label).first.click()


def replace_cell(page, marker: str, text: str, markdown: bool = False) -> None:
    """Put `text` into the notebook cell whose source shows `marker`."""
    cell = page.locator(".jp-Notebook .jp-Cell", has_text=marker).first
    if markdown:
        cell.locator(".jp-MarkdownOutput").dblclick()
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    if markdown:
        page.keyboard.press("Shift+Enter")


def test_student_fetches_validates_submits_and_sees_the_grade(demo_service, lab_for, page):
    demo = demo_service.demo
    lab = lab_for("student1")
    open_lab(page, lab)
    launcher_card = page.locator(".jp-LauncherCard", has_text="Assignments")
    launcher_card.wait_for()
    shot(page, "01-launcher")
    # the same command is in the palette (test_hub_journey) and in a Grader menu
    page.locator(".lm-MenuBar-item", has_text="Grader").click()
    page.locator(".lm-Menu-item", has_text="Assignments").wait_for()
    page.keyboard.press("Escape")

    # -- the panel: the lecture, its released assignment, not fetched yet --
    launcher_card.click()
    page.wait_for_selector(".jp-GraderLecture h2:has-text('Demo 101')")
    badge = card(page).locator(".jp-GraderBadge")
    badge.wait_for()
    assert badge.get_attribute("data-status") == "not-fetched"
    assert "due in 2 d" in card(page).locator(".jp-GraderDeadline").inner_text()
    assert "up to 1 d late: score × 0.5" in card(page).inner_text()
    assert "3 of 3 submissions left" in card(page).inner_text()
    shot(page, "02-assignments")

    # -- keyboard: from the panel's Refresh button, Tab reaches Fetch; Enter fetches; the folder opens --
    page.get_by_role("button", name="Refresh assignments").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == f"Fetch {NAME}", focused
    page.keyboard.press("Enter")
    page.wait_for_selector(f".jp-GraderAssignment:has-text('{NAME}') [data-status='fetched']")
    page.wait_for_selector(".jp-DirListing-item:has-text('assignment1.ipynb')")
    assert "Assignment_1_Python_basics" in page.locator(".jp-FileBrowser .jp-BreadCrumbs").inner_text()

    # -- validate the untouched notebook: both answers unanswered, nothing handed in --
    page.get_by_role("button", name=f"Validate {NAME}").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-GraderValidation").wait_for(timeout=90_000)
    assert dialog.locator("[data-kind='unanswered']").count() == 2, dialog.inner_text()
    shot(page, "03-validate-problems")
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    assert (
        demo_service.request(
            "GET",
            f"/api/lectures/{demo['lecture_id']}/assignments/{demo['assignment_id']}/submissions",
            token=demo["users"]["student1"]["token"],
        ).json()
        == []
    )

    # -- answer in the notebook (opened from the panel) --
    page.get_by_role("button", name="Open assignment1.ipynb").click()
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell:has-text('YOUR CODE HERE')")
    replace_cell(page, "YOUR CODE HERE", ANSWER)
    replace_cell(page, "YOUR ANSWER HERE", EXPLAIN, markdown=True)
    shot(page, "04-notebook-answered")

    # -- validate again: passes (the panel saves the open notebook first) --
    tab(page, "Assignments")
    page.get_by_role("button", name=f"Validate {NAME}").click()
    page.wait_for_selector(".jp-Dialog .jp-GraderValidation", timeout=90_000)
    assert page.locator(".jp-Dialog .jp-GraderValidation.jp-mod-passed").count() == 1, page.locator(
        ".jp-Dialog"
    ).inner_text()
    shot(page, "05-validate-passed")
    page.locator(".jp-Dialog button.jp-mod-accept").click()

    # -- submit: the confirmation lists the files; the submission appears at once, then is graded --
    page.get_by_role("button", name=f"Submit {NAME}").click()
    confirm = page.locator(".jp-Dialog")
    confirm.locator(".jp-GraderConfirm-files li", has_text="assignment1.ipynb").wait_for()
    shot(page, "06-submit-confirm")
    confirm.locator("button.jp-mod-accept").click()
    row = card(page).locator(".jp-GraderSubmission")
    row.first.wait_for(timeout=10_000)
    assert row.count() == 1
    card(page).locator("[data-status='graded']").wait_for(timeout=120_000)
    # 4 of 5: the autograded tests; the written answer (1 point) waits for a tutor
    assert "Graded: 4 / 5" in badge.inner_text(), badge.inner_text()
    page.locator(".Toastify__toast", has_text="your submission is graded").first.wait_for()
    assert "2 of 3 submissions left" in card(page).inner_text()
    shot(page, "07-graded")

    # -- per-cell results (the grading record of #14), or a sentence saying there are none --
    page.get_by_role("button", name="Show results of submission 1").click()
    if service_has("/grading"):
        table = card(page).locator(".jp-GraderResults-table")
        table.wait_for()
        assert "test_mean" in table.inner_text()
    else:
        card(page).locator(".jp-GraderResults-none").wait_for()
    shot(page, "08-results")

    # -- feedback (#14): the instructor generates and releases it; the student opens it in a Lab tab --
    if service_has("/submissions/{submission_id}/feedback"):
        open_released_feedback(page, demo_service)

    # -- reset to the released version: confirmation, then a backup copy of the student's files --
    page.get_by_role("button", name=f"Reset {NAME} to the released version").click()
    page.locator(".jp-Dialog", has_text="backup").wait_for()
    shot(page, "11-reset-confirm")
    page.locator(".jp-Dialog button.jp-mod-warn, .jp-Dialog button.jp-mod-accept").last.click()
    page.locator(".Toastify__toast", has_text="copied to").first.wait_for()
    folder = lab.root / "demo101" / "Assignment_1_Python_basics"
    assert "YOUR CODE HERE" in (folder / "assignment1.ipynb").read_text()
    backups = list((lab.root / "demo101" / ".backups").iterdir())
    assert len(backups) == 1 and "sum(values)" in (backups[0] / "assignment1.ipynb").read_text()
    tab(page, "assignment1.ipynb")  # the open notebook was reloaded from disk
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell:has-text('YOUR CODE HERE')")
    tab(page, "Assignments")

    # -- narrow width and the dark theme --
    page.keyboard.press("Control+b")  # collapse the file browser, as one would on a narrow screen
    page.set_viewport_size({"width": 480, "height": 860})
    page.wait_for_timeout(300)
    assert card(page).bounding_box()["width"] <= 480
    shot(page, "12-narrow")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.keyboard.press("Control+b")
    page.keyboard.press("Control+Shift+c")
    page.fill(".lm-CommandPalette-input", "Use Theme: JupyterLab Dark")
    page.keyboard.press("Enter")
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_timeout(500)
    shot(page, "13-dark")


def open_released_feedback(page, svc) -> None:
    demo = svc.demo
    teacher = demo["users"]["instructor"]["token"]
    student = demo["users"]["student1"]["token"]
    base = f"/api/lectures/{demo['lecture_id']}/assignments/{demo['assignment_id']}"
    for action in ("generate", "release"):
        r = svc.request(
            "POST", base + "/feedback", token=teacher, json={"action": action, "submissions": "all"}
        )
        assert r.status_code in (200, 201, 202), r.text
        poll(
            lambda action=action: all(
                s["feedback_status"] == ("released" if action == "release" else "generated")
                or (action == "generate" and s["feedback_status"] == "released")
                for s in svc.request("GET", base + "/submissions", token=student).json()
            )
        )
    page.get_by_role("button", name="Refresh assignments").click()
    card(page).locator("[data-status='feedback']").wait_for()
    card(page).locator(".jp-GraderHistory > summary").click()
    page.get_by_role("button", name="Open feedback of submission 1").click()
    frame = page.locator("iframe.jp-GraderFeedback-frame")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""
    body = page.frame_locator("iframe.jp-GraderFeedback-frame").locator("body")
    assert "mean" in body.inner_text()
    shot(page, "10-feedback")
    tab(page, "Assignments")
