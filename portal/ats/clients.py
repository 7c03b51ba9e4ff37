"""Live clients of the applicant tracking systems' APIs, with httpx: what an event
lacks (Lever's candidate and job) and an application's scorecards.

- **Greenhouse**: Harvest v3 (v1 and v2 were retired in 2026). The credentials are a
  Harvest v3 OAuth client, `CLIENT_ID:CLIENT_SECRET`; a token comes from
  `POST https://auth.greenhouse.io/token` (client credentials grant, HTTP Basic) and
  is kept until shortly before it expires. Scorecards:
  `GET https://harvest.greenhouse.io/v3/scorecards?application_ids=<id>`, pages
  followed through the `Link` header's `next`.
- **Lever**: `GET https://api.lever.co/v1/opportunities/<id>` (the candidate and the
  job) and `GET …/opportunities/<id>/feedback` (the feedback forms: the scorecards),
  pages followed while `hasNext` (`offset`); HTTP Basic with the API key as user name.
- **Ashby**: `POST https://api.ashbyhq.com/application.info` and
  `applicationFeedback.list` (pages followed while `moreDataAvailable`, `nextCursor`);
  HTTP Basic with the API key as user name.

Every request has a timeout; a 429 or 5xx answer (or a network error) is retried a
few times, waiting what `Retry-After` says (at most `MAX_WAIT` seconds) or a short
growing pause. A failure raises `AtsApiError` with a message for the admin, which
leaves the event FAILED with it; "Process again" on the ATS page retries it.

Each system's base URL is a setting (`PORTAL_ATS_GREENHOUSE_API_URL`, ...), for tests
against a local server. Scorecard answers are read into `fetch.Scorecard`: answers to
questions (private notes among them) go to `questions` only, which no candidate sees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ats.fetch import RATINGS, AtsApi, NoApi, Person, Scorecard, api_for, read_scorecard
from portal.ats.models import Ats, AtsConnection, AtsEvent
from portal.settings import Settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ATTEMPTS = 4
MAX_WAIT = 30.0  # seconds: a longer Retry-After fails the event (process it again later)
MAX_PAGES = 50
RETRIED = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], Awaitable[None]]


class AtsApiError(RuntimeError):
    """The ATS's API could not answer: the message says why, for the admin."""


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


@dataclass
class Client:
    """One system's API for one organization: requests with retries."""

    name: str
    base_url: str
    auth: httpx.Auth | None
    sleep: Sleep = asyncio.sleep
    transport: httpx.AsyncBaseTransport | None = None

    def session(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            auth=self.auth,
            timeout=TIMEOUT,
            transport=self.transport,
            headers={"accept": "application/json", "user-agent": "Afterword"},
        )

    async def request(
        self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        """The answer to a request, retried on 429, 5xx and network errors; raises
        `AtsApiError` for any other error, or when the retries are spent."""
        problem = ""
        for attempt in range(ATTEMPTS):
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                problem = f"could not reach {self.name}'s API ({type(exc).__name__})"
                wait: float | None = None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code in (401, 403):
                    raise AtsApiError(
                        f"{self.name} refused the API credentials "
                        f"({response.status_code}): check them on the ATS page."
                    )
                if response.status_code == 404:
                    raise AtsApiError(f"{self.name}'s API does not know this record (404).")
                if response.status_code not in RETRIED:
                    raise AtsApiError(
                        f"{self.name}'s API answered {response.status_code} to {method} "
                        f"{response.request.url.path}."
                    )
                problem = f"{self.name}'s API answered {response.status_code}"
                wait = retry_after(response.headers.get("retry-after"))
                if wait is not None and wait > MAX_WAIT:
                    raise AtsApiError(
                        f"{problem} and asked to wait {wait:.0f} s: process it again later."
                    )
            if attempt + 1 < ATTEMPTS:
                await self.sleep(wait if wait is not None else 0.5 * 2**attempt)
        raise AtsApiError(f"{problem}, {ATTEMPTS} times: process it again later.")

    async def get_json(self, client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
        return _json(self.name, await self.request(client, "GET", url, **kwargs))

    async def post_json(self, client: httpx.AsyncClient, url: str, body: Any) -> Any:
        return _json(self.name, await self.request(client, "POST", url, json=body))


def _json(name: str, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise AtsApiError(f"{name}'s API answered something that is not JSON.") from exc


def _text(value: Any, limit: int = 5_000) -> str:
    return str(value)[:limit] if value is not None else ""


# --- Greenhouse (Harvest v3) ---------------------------------------------------------


class GreenhouseToken(httpx.Auth):
    """A Harvest v3 access token (client credentials grant), fetched when needed and
    again when it expires or is refused."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.basic = httpx.BasicAuth(client_id, client_secret)
        self.token = ""
        self.expires = 0.0

    def _token_request(self) -> httpx.Request:
        request = httpx.Request("POST", self.token_url, data={"grant_type": "client_credentials"})
        return next(self.basic.auth_flow(request))

    def auth_flow(self, request: httpx.Request) -> Any:
        if not self.token or time.monotonic() >= self.expires:
            answer = yield self._token_request()
            self._keep(answer)
        request.headers["authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            answer = yield self._token_request()
            self._keep(answer)
            request.headers["authorization"] = f"Bearer {self.token}"
            yield request

    def _keep(self, answer: httpx.Response) -> None:
        if answer.status_code in (401, 403):
            raise AtsApiError(
                "Greenhouse refused the API credentials (the token request): check them on "
                "the ATS page."
            )
        if answer.status_code >= 400:
            raise AtsApiError(f"Greenhouse's token endpoint answered {answer.status_code}.")
        try:
            data = answer.json()
            self.token = str(data["access_token"])
            lifetime = float(data.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError) as exc:
            raise AtsApiError("Greenhouse's token endpoint answered without a token.") from exc
        # Renewed a minute early, so that a request never goes out with a token that
        # expires on the way.
        self.expires = time.monotonic() + max(0.0, lifetime - 60)


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None


def _greenhouse_scorecard(raw: dict[str, Any]) -> Scorecard:
    """A Harvest scorecard: attributes with ratings, and questions with answers (the
    private notes among them)."""
    card = read_scorecard(raw)
    interviewer = raw.get("interviewer") or raw.get("submitted_by") or {}
    if not card.interviewer and isinstance(interviewer, dict):
        first, last = interviewer.get("first_name"), interviewer.get("last_name")
        name = " ".join(part for part in (first, last) if part)
        if name:
            card = Scorecard(
                id=card.id,
                interviewer=name[:200],
                overall_recommendation=card.overall_recommendation,
                attributes=card.attributes,
                questions=card.questions,
                submitted_at=card.submitted_at,
            )
    return card


class GreenhouseApi:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]:
        cards: list[Scorecard] = []
        async with self.client.session() as http:
            url: str | None = "/v3/scorecards"
            params: dict[str, Any] | None = {"application_ids": application_id, "per_page": 100}
            for _page in range(MAX_PAGES):
                if url is None:
                    break
                response = await self.client.request(http, "GET", url, params=params)
                data = _json("Greenhouse", response)
                items = data.get("data", data) if isinstance(data, dict) else data
                cards += [_greenhouse_scorecard(item) for item in items or () if item]
                url, params = _next_link(response), None
        return cards

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None:
        return None  # Greenhouse's webhook carries the candidate and the job


# --- Lever ---------------------------------------------------------------------------

# Lever's scores (1 to 4, "strong no" to "strong yes") as Greenhouse's ratings.
LEVER_SCORES = {"1": "definitely_not", "2": "no", "3": "yes", "4": "strong_yes"}


def _lever_scorecard(raw: dict[str, Any]) -> Scorecard:
    """A Lever feedback form: score fields are the attributes (their comments the
    notes); every other field's answer goes to the questions, staff-only."""
    attributes = []
    questions = []
    for field in raw.get("fields") or ():
        if not isinstance(field, dict):
            continue
        kind = _text(field.get("type"), 100)
        text = _text(field.get("text"), 200)
        value = field.get("value")
        if kind in ("score", "scoreSystem"):
            score = value.get("score") if isinstance(value, dict) else value
            rating = LEVER_SCORES.get(_text(score, 10), "no_decision")
            note = _text(value.get("comment")) if isinstance(value, dict) else ""
            attributes.append({"name": text, "type": kind, "note": note, "rating": rating})
        elif value not in (None, "", []):
            questions.append({"question": text, "answer": _text(value)})
    user = raw.get("user") if isinstance(raw.get("user"), dict) else {}
    completed = raw.get("completedAt")
    submitted = (
        dt.datetime.fromtimestamp(completed / 1000, dt.UTC).isoformat()
        if isinstance(completed, int | float)
        else None
    )
    return read_scorecard(
        {
            "id": raw.get("id"),
            "interviewer": {"name": (user or {}).get("name")},
            "overall_recommendation": "",
            "attributes": attributes,
            "questions": questions,
            "submitted_at": submitted,
        }
    )


class LeverApi:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]:
        cards: list[Scorecard] = []
        async with self.client.session() as http:
            params: dict[str, Any] = {"limit": 100}
            for _page in range(MAX_PAGES):
                data = await self.client.get_json(
                    http, f"/opportunities/{application_id}/feedback", params=params
                )
                cards += [_lever_scorecard(item) for item in data.get("data") or () if item]
                if not data.get("hasNext") or not data.get("next"):
                    break
                params = {"limit": 100, "offset": data["next"]}
        return cards

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None:
        async with self.client.session() as http:
            data = await self.client.get_json(
                http, f"/opportunities/{application_id}", params={"expand": "applications"}
            )
        found = data.get("data") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            return None
        emails = found.get("emails") or []
        applications = found.get("applications") or []
        posting: dict[str, Any] = {}
        if applications and isinstance(applications[0], dict):
            application = applications[0]
            posting = {"id": application.get("posting"), "name": application.get("postingName")}
        return Person(
            email=_text(emails[0] if emails else "", 320).lower(),
            name=_text(found.get("name"), 200),
            job_id=_text(posting.get("id"), 100),
            job_name=_text(posting.get("name"), 300),
            stage=_text(found.get("stage"), 100),
        )


# --- Ashby ---------------------------------------------------------------------------


def _ashby_rating(value: Any) -> str:
    score = value.get("score") if isinstance(value, dict) else value
    return {"1": "definitely_not", "2": "no", "3": "yes", "4": "strong_yes"}.get(
        _text(score, 10), "no_decision"
    )


def _ashby_scorecard(raw: dict[str, Any]) -> Scorecard:
    """An Ashby feedback submission: score fields are the attributes; the other
    fields' answers go to the questions, staff-only."""
    form = raw.get("formDefinition") if isinstance(raw.get("formDefinition"), dict) else {}
    labels: dict[str, tuple[str, str]] = {}
    for section in (form or {}).get("sections") or ():
        for wrapper in section.get("fields") or ():
            field = wrapper.get("field") if isinstance(wrapper, dict) else None
            if isinstance(field, dict):
                labels[_text(field.get("path"), 200)] = (
                    _text(field.get("title"), 200),
                    _text(field.get("type"), 100),
                )
    attributes = []
    questions = []
    overall = ""
    for path, value in (raw.get("submittedValues") or {}).items():
        title, kind = labels.get(path, (path, ""))
        if path == "overall_recommendation" or (kind == "Score" and "overall" in title.lower()):
            overall = _ashby_rating(value)
        elif kind == "Score":
            attributes.append(
                {"name": title, "type": kind, "note": "", "rating": _ashby_rating(value)}
            )
        elif value not in (None, "", []):
            questions.append({"question": title, "answer": _text(value)})
    user = raw.get("submittedByUser") if isinstance(raw.get("submittedByUser"), dict) else {}
    name = " ".join(p for p in ((user or {}).get("firstName"), (user or {}).get("lastName")) if p)
    return read_scorecard(
        {
            "id": raw.get("id"),
            "interviewer": {"name": name},
            "overall_recommendation": overall if overall in RATINGS else "",
            "attributes": attributes,
            "questions": questions,
            "submitted_at": raw.get("submittedAt"),
        }
    )


class AshbyApi:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.client.session() as http:
            data = await self.client.post_json(http, f"/{endpoint}", body)
        if not isinstance(data, dict) or data.get("success") is False:
            errors = data.get("errors") if isinstance(data, dict) else None
            raise AtsApiError(f"Ashby's {endpoint} refused the request: {errors or 'no reason'}.")
        return data

    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]:
        cards: list[Scorecard] = []
        body: dict[str, Any] = {"applicationId": application_id}
        for _page in range(MAX_PAGES):
            data = await self._post("applicationFeedback.list", body)
            cards += [_ashby_scorecard(item) for item in data.get("results") or () if item]
            if not data.get("moreDataAvailable") or not data.get("nextCursor"):
                break
            body = {"applicationId": application_id, "cursor": data["nextCursor"]}
        return cards

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None:
        data = await self._post("application.info", {"applicationId": application_id})
        found = data.get("results")
        if not isinstance(found, dict):
            return None
        candidate = found.get("candidate") or {}
        job = found.get("job") or {}
        address = (candidate.get("primaryEmailAddress") or {}).get("value")
        stage = found.get("currentInterviewStage") or {}
        return Person(
            email=_text(address, 320).lower(),
            name=_text(candidate.get("name"), 200),
            job_id=_text(job.get("id"), 100),
            job_name=_text(job.get("title"), 300),
            stage=_text(stage.get("title"), 100),
        )


# --- choosing ------------------------------------------------------------------------


def live_api(
    settings: Settings,
    ats: Ats,
    credentials: str,
    *,
    sleep: Sleep = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AtsApi:
    """The live client of `ats` with an organization's credentials."""
    if ats == Ats.GREENHOUSE:
        client_id, _, secret = credentials.partition(":")
        auth: httpx.Auth = GreenhouseToken(settings.ats_greenhouse_token_url, client_id, secret)
        return GreenhouseApi(
            Client("Greenhouse", settings.ats_greenhouse_api_url, auth, sleep, transport)
        )
    basic = httpx.BasicAuth(credentials, "")
    if ats == Ats.LEVER:
        return LeverApi(Client("Lever", settings.ats_lever_api_url, basic, sleep, transport))
    return AshbyApi(Client("Ashby", settings.ats_ashby_api_url, basic, sleep, transport))


def choose_api(settings: Settings, ats: Ats, credentials: str | None) -> AtsApi:
    """An organization's credentials set: the live API; else the recorded answers when
    `PORTAL_ATS_RECORDED_ANSWERS_DIR` is set; else none."""
    if credentials:
        return live_api(settings, ats, credentials)
    return api_for(settings.ats_recorded_answers_dir)


async def api_for_event(db: AsyncSession, *, settings: Settings, event_id: int) -> AtsApi:
    """The API to ask about an event: by its organization's credentials for its system."""
    row = (
        await db.execute(
            select(AtsEvent.ats, AtsConnection.api_credentials)
            .outerjoin(
                AtsConnection,
                (AtsConnection.organization_id == AtsEvent.organization_id)
                & (AtsConnection.ats == AtsEvent.ats),
            )
            .where(AtsEvent.id == event_id)
        )
    ).one_or_none()
    if row is None:
        return NoApi()
    return choose_api(settings, Ats(row.ats), row.api_credentials)
