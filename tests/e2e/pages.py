from playwright.sync_api import Page

from tests.factories import PASSWORD


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def settled(page: Page) -> None:
    """Wait until htmx has swapped in its answer and wired the new elements.

    A swapped element is in the page before htmx processes its hx- attributes, so a test
    that acts on it at once (choosing in a select the swap replaced) can go unheard.
    """
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
