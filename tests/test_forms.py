"""Input models and the form helper: human messages, everything typed kept, clear limits."""

from __future__ import annotations

import importlib
import pkgutil
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

import portal
from portal.forms import InputModel, validate_input
from portal.orgs.colours import WHITE, carries_white_text, contrast_ratio, darker_shade
from portal.orgs.forms import OrganizationSettingsForm
from tests.factories import csrf_token


async def _sign_in_form(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await client.post("/signin", data={"csrftoken": await csrf_token(client), **fields})


class _Elements(HTMLParser):
    """Each element's attributes by id, and the text of each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.attrs[values["id"]] = values
            if tag not in ("input", "br", "img", "meta", "link"):
                self._open.append(values["id"])
                self.text[values["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == "p":
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for name in self._open:
            self.text[name] += data


def _all_input_models() -> list[type[InputModel]]:
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found: list[type[InputModel]] = []
    pending = list(InputModel.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def test_every_text_field_of_every_form_has_a_length_limit() -> None:
    models = _all_input_models()
    assert OrganizationSettingsForm in models and len(models) >= 2
    for model in models:
        for name, info in model.model_fields.items():
            if info.annotation is not str:
                continue
            limits = [getattr(item, "max_length", None) for item in info.metadata]
            assert any(limits), f"{model.__name__}.{name} has no max_length"


def test_each_bad_field_gets_its_own_human_message_and_keeps_its_value() -> None:
    typed = {
        "display_name": "   ",
        "accent_colour": "blue",
        "reply_promise_days": "soon",
        "invitation_days": "365",
        "consent_text": "x" * 10_001,
        "mail_from_name": "Acme <hiring>",
        "version": "3",
    }
    data, form = validate_input(OrganizationSettingsForm, typed)
    assert data is None
    assert form.values == typed
    assert form.errors == {
        "display_name": "Enter the name candidates see, like Acme Corp.",
        "accent_colour": "Enter a colour as # and six hex digits, like #1f5f8b.",
        "reply_promise_days": "Enter a whole number, like 12.",
        "invitation_days": "Enter a number from 1 to 90.",
        "consent_text": "Keep it to 10,000 characters or fewer (this has 10,001).",
    }


def test_a_valid_form_becomes_the_model() -> None:
    data, form = validate_input(
        OrganizationSettingsForm,
        {
            "display_name": " Acme Corp ",
            "accent_colour": "#1F4E79",
            "reply_promise_days": "5",
            "invitation_days": "14",
            "version": "1",
            "csrftoken": "ignored",
        },
    )
    assert form.errors == {}
    assert data is not None
    assert (data.display_name, data.accent_colour, data.reply_promise_days) == (
        "Acme Corp",
        "#1f4e79",
        5,
    )


async def test_a_rejected_form_comes_back_as_typed_with_a_message(
    client: httpx.AsyncClient,
) -> None:
    response = await _sign_in_form(client, email="dana at example dot com")
    assert response.status_code == 422
    page = _Elements(response.text)
    field = page.attrs["email"]
    assert field["value"] == "dana at example dot com"
    assert field["aria-invalid"] == "true"
    assert "email-error" in field["aria-describedby"]
    assert page.text["email-error"].strip() == "Enter an email address like name@example.com."


async def test_an_htmx_rejection_swaps_only_the_form(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin", data={"email": ""}, headers={"hx-request": "true", "x-csrftoken": token}
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<div id="signin-panel">')
    assert "Enter the email address your application used." in response.text


async def test_markup_in_a_field_comes_back_as_text(client: httpx.AsyncClient) -> None:
    response = await _sign_in_form(client, email='"><script>alert(1)</script>')
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert _Elements(response.text).attrs["email"]["value"] == '"><script>alert(1)</script>'


async def test_an_overlong_field_is_explained_and_kept(client: httpx.AsyncClient) -> None:
    address = "a" * 400 + "@example.com"
    response = await _sign_in_form(client, email=address)
    assert response.status_code == 422
    assert "Keep it to 320 characters or fewer (this has 412)." in response.text
    assert f'value="{address}"' in response.text


async def test_a_form_with_too_many_fields_is_refused_clearly(
    client: httpx.AsyncClient,
) -> None:
    extra: dict[str, Any] = {f"field{i}": "x" for i in range(20)}
    response = await _sign_in_form(client, email="dana@example.com", **extra)
    assert response.status_code == 400
    assert "That request could not be read" in response.text


async def test_a_body_over_the_limit_is_refused_clearly(client: httpx.AsyncClient) -> None:
    response = await _sign_in_form(client, email="a" * 1_100_000)
    assert response.status_code == 413
    assert "Too much to send" in response.text


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_required_field_says_what_to_enter(value: str) -> None:
    _data, form = validate_input(OrganizationSettingsForm, {"display_name": value})
    assert form.errors["display_name"] == "Enter the name candidates see, like Acme Corp."
    assert form.errors["version"] == "Fill in this field."


def test_rows_are_renumbered_and_each_bad_row_field_keeps_its_own_message() -> None:
    from portal.forms import validate_rows
    from portal.workspace.forms import EditorForm

    posted = [
        ("version", "2"),
        ("decision_summary", "Thank you."),
        ("strengths-7-body", "Clear queries."),
        ("strengths-7-visible", "on"),
        ("strengths-3-body", "x" * 1_001),
        ("strengths-3-unknown", "ignored"),
        ("growth_areas-0-body", "Testing"),
        ("growth_areas-0-requirement", "not a number"),
        ("growth_areas-99999-body", "beyond the largest row number: ignored"),
        ("csrftoken", "ignored"),
    ]
    data, form = validate_rows(EditorForm, posted)
    assert data is None
    # Row 3 comes before row 7, and both are renumbered from 0.
    assert form.value("strengths-0-body") == "x" * 1_001
    assert form.value("strengths-1-body") == "Clear queries."
    assert form.value("strengths-1-visible") == "on"
    assert "strengths-0-unknown" not in form.values
    assert form.errors == {
        "strengths-0-body": "Keep it to 1,000 characters or fewer (this has 1,001).",
        "growth_areas-0-requirement": "Choose one.",
    }

    posted[4] = ("strengths-3-body", "Curious.")
    posted[7] = ("growth_areas-0-requirement", "")
    data, form = validate_rows(EditorForm, posted)
    assert data is not None, form.errors
    assert [row.body for row in data.strengths] == ["Curious.", "Clear queries."]
    assert [row.visible for row in data.strengths] == [False, True]
    assert data.growth_areas[0].requirement is None
    assert data.version == 2


def test_an_accent_colour_too_light_for_white_text_is_refused_with_a_way_out() -> None:
    values = {
        "display_name": "Acme Corp",
        "reply_promise_days": "5",
        "invitation_days": "14",
        "version": "1",
    }
    data, form = validate_input(OrganizationSettingsForm, {**values, "accent_colour": "#AABBCC"})
    assert data is None
    message = form.error("accent_colour")
    assert message.startswith("White text on #aabbcc is too faint to read (1.9:1;")
    assert "at least 4.5:1" in message
    suggestion = message.rsplit("such as ", 1)[1].rstrip(".")
    assert contrast_ratio(suggestion, WHITE) >= 4.5
    # The suggestion is taken as it is, and so is the darkest shade that just passes.
    data, form = validate_input(OrganizationSettingsForm, {**values, "accent_colour": suggestion})
    assert form.errors == {} and data is not None


def test_contrast_ratios_are_wcags() -> None:
    assert round(contrast_ratio("#000000", WHITE), 2) == 21.0
    assert round(contrast_ratio(WHITE, WHITE), 2) == 1.0
    assert round(contrast_ratio("#767676", WHITE), 2) == 4.54  # the classic 4.5:1 grey
    assert not carries_white_text("#777777")
    assert carries_white_text("#767676")
    assert darker_shade("#ffffff") == "#757575"  # in steps of 1% towards black


def test_privacy_notice_and_contact_are_checked() -> None:
    values = {
        "display_name": "Acme Corp",
        "accent_colour": "#1f4e79",
        "reply_promise_days": "5",
        "invitation_days": "14",
        "version": "1",
    }
    for bad in ("javascript:alert(1)", "ftp://x.example/p", "https://", "not a url"):
        data, form = validate_input(OrganizationSettingsForm, {**values, "privacy_url": bad})
        assert data is None and form.error("privacy_url").startswith("Enter a web address"), bad
    data, form = validate_input(OrganizationSettingsForm, {**values, "contact_email": "nope"})
    assert form.error("contact_email") == "Enter an email address like name@example.com."
    data, _ = validate_input(
        OrganizationSettingsForm,
        {
            **values,
            "privacy_url": "https://acme.example/privacy",
            "contact_email": "a@acme.example",
        },
    )
    assert data is not None and data.privacy_url == "https://acme.example/privacy"
