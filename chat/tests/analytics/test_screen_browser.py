"""The metrics screen in headless Chromium: axe-core finds no colour-contrast problem.

The selected period button used the admin's light blue (--primary, #79aec8) behind white
text: 2.41:1. axe-core's "color-contrast" rule (WCAG 2 AA: 4.5:1 for text this size) runs
on the whole screen, in the light and the dark admin theme.
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from chat.analytics.daily import compute_days
from chat.analytics.days import yesterday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CONTRAST_ONLY = {"runOnly": {"type": "rule", "values": ["color-contrast"]}, "resultTypes": ["violations"]}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_selected_period_and_the_whole_screen_have_enough_contrast(scheme, manager, live_server, request):
    compute_days([yesterday() - timedelta(days=offset) for offset in range(14)])
    # Started after the database work: Playwright's event loop makes the ORM refuse to run.
    browser = request.getfixturevalue("browser")
    context = browser.new_context(locale="pt-BR", color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/chat/chatanalytics/metrics/%3Fdays%3D7")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass-1234-word")
    page.click("input[type=submit]")
    page.wait_for_selector('[data-period-link="7"][aria-current="page"]')

    results = Axe().run(page, context="#content-main", options=CONTRAST_ONLY)

    context.close()
    violations = [
        (node["target"], node["any"][0]["data"])
        for rule in results.response["violations"]
        for node in rule["nodes"]
    ]
    assert violations == []
